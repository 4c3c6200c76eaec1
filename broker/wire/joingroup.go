package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// joinGroup blocks until the join phase of the group's rebalance ends. It
// passes the handler's context on, so a client that hangs up mid-wait
// stops waiting; pipelined requests behind it keep being served meanwhile.
func (h *brokerHandlers) joinGroup(ctx context.Context, rc *RequestContext, req *kmsg.JoinGroupRequest) (Response, error) {
	return Message(h.b.Groups().JoinGroup(groupContext(ctx, rc), req)), nil
}
