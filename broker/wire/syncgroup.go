package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// syncGroup blocks a follower until the leader's assignment is journaled;
// like joinGroup, it stops waiting when the connection closes.
func (h *brokerHandlers) syncGroup(ctx context.Context, rc *RequestContext, req *kmsg.SyncGroupRequest) (Response, error) {
	return Message(h.b.Groups().SyncGroup(groupContext(ctx, rc), req)), nil
}
