package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaveGroup removes one member (v0–v2) or a batch of them (v3+, static
// members by instance id) and rebalances the rest.
func (h *brokerHandlers) leaveGroup(ctx context.Context, rc *RequestContext, req *kmsg.LeaveGroupRequest) (Response, error) {
	return Message(h.b.Groups().LeaveGroup(groupContext(ctx, rc), req)), nil
}
