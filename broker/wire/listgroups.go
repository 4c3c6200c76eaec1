package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// listGroups lists every live group: this node coordinates all of them.
func (h *brokerHandlers) listGroups(ctx context.Context, rc *RequestContext, req *kmsg.ListGroupsRequest) (Response, error) {
	return Message(h.b.Groups().ListGroups(groupContext(ctx, rc), req)), nil
}
