package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// heartbeat keeps a member's session alive; REBALANCE_IN_PROGRESS in the
// answer is how members learn they must rejoin.
func (h *brokerHandlers) heartbeat(ctx context.Context, rc *RequestContext, req *kmsg.HeartbeatRequest) (Response, error) {
	return Message(h.b.Groups().Heartbeat(groupContext(ctx, rc), req)), nil
}
