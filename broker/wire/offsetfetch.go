package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetFetch returns committed offsets, for one group (v0–v7) or several
// (v8+).
func (h *brokerHandlers) offsetFetch(ctx context.Context, rc *RequestContext, req *kmsg.OffsetFetchRequest) (Response, error) {
	return Message(h.b.Groups().OffsetFetch(groupContext(ctx, rc), req)), nil
}
