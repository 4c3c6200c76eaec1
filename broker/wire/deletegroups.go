package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// deleteGroups deletes empty groups and their offsets durably.
func (h *brokerHandlers) deleteGroups(ctx context.Context, rc *RequestContext, req *kmsg.DeleteGroupsRequest) (Response, error) {
	return Message(h.b.Groups().DeleteGroups(groupContext(ctx, rc), req)), nil
}
