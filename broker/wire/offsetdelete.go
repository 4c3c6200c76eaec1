package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetDelete removes a group's committed offsets for topics it no longer
// consumes.
func (h *brokerHandlers) offsetDelete(ctx context.Context, rc *RequestContext, req *kmsg.OffsetDeleteRequest) (Response, error) {
	return Message(h.b.Groups().OffsetDelete(groupContext(ctx, rc), req)), nil
}
