package wire

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleInitProducerID gives an idempotent producer a new producer id at
// epoch 0. Like Kafka, it ignores the id and epoch an idempotent producer
// sends back (KIP-360): a fresh id serves it as well as a bumped epoch.
// Transactional ids get the broker's refusal until transactions exist, and
// an empty transactional id is INVALID_REQUEST, as in Kafka.
func (h *brokerHandlers) handleInitProducerID(ctx context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.InitProducerIDRequest)
	if !ok {
		return nil, errUnexpectedRequest("InitProducerId", kreq)
	}
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	var transactionalID string
	if req.TransactionalID != nil {
		if transactionalID = *req.TransactionalID; transactionalID == "" {
			resp.ErrorCode = kerr.InvalidRequest.Code
			return Message(resp), nil
		}
	}
	id, epoch, err := h.b.InitProducerID(ctx, transactionalID)
	if err != nil {
		err = fmt.Errorf("init producer id (transactional id %q): %w", transactionalID, err)
		resp.ErrorCode = h.dataErrorCode(err, "InitProducerId", "", -1)
		return Message(resp), nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, epoch
	return Message(resp), nil
}
