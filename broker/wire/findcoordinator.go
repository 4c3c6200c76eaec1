package wire

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Coordinator key types.
const (
	coordinatorGroup       = 0
	coordinatorTransaction = 1
)

// handleFindCoordinator points every group, and every transactional id, at
// this node.
//
// Transactions are not supported yet, but this node is still named their
// coordinator: a transactional client then sends InitProducerId here and
// gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED, a fatal error it reports at
// once. Answering COORDINATOR_NOT_AVAILABLE instead would have it retry
// until its timeout and fail with a misleading cause. Share groups (key type
// 2, KIP-932) are not served: INVALID_REQUEST, as Kafka answers an unknown
// key type.
func (h *brokerHandlers) handleFindCoordinator(_ context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.FindCoordinatorRequest)
	if !ok {
		return nil, errUnexpectedRequest("FindCoordinator", kreq)
	}
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version < 4 {
		// A single key, answered in the top-level fields.
		code, msg := coordinatorKeyError(req.CoordinatorType, req.CoordinatorKey)
		resp.ErrorCode, resp.ErrorMessage = code, msg
		if code == 0 {
			resp.NodeID, resp.Host, resp.Port = h.b.NodeID(), h.host, h.port
		} else {
			resp.NodeID, resp.Port = -1, -1
		}
		return Message(resp), nil
	}
	resp.Coordinators = make([]kmsg.FindCoordinatorResponseCoordinator, 0, len(req.CoordinatorKeys))
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.ErrorCode, c.ErrorMessage = coordinatorKeyError(req.CoordinatorType, key)
		if c.ErrorCode == 0 {
			c.NodeID, c.Host, c.Port = h.b.NodeID(), h.host, h.port
		} else {
			c.NodeID, c.Port = -1, -1
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return Message(resp), nil
}

// coordinatorKeyError returns the error code and message for one key; 0 means
// this node coordinates it.
func coordinatorKeyError(keyType int8, key string) (int16, *string) {
	switch keyType {
	case coordinatorGroup, coordinatorTransaction:
		return 0, nil
	}
	msg := fmt.Sprintf("coordinator key type %d (for %q) is not served; 0 (group) and 1 (transaction) are", keyType, key)
	return kerr.InvalidRequest.Code, &msg
}
