package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetCommit answers only once the offsets are journaled to
// __consumer_offsets, and so survive a restart.
func (h *brokerHandlers) offsetCommit(ctx context.Context, rc *RequestContext, req *kmsg.OffsetCommitRequest) (Response, error) {
	return Message(h.b.Groups().OffsetCommit(groupContext(ctx, rc), req)), nil
}
