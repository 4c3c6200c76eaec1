package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat keeps a member's session alive. During a rebalance it answers
// REBALANCE_IN_PROGRESS, which is how members learn that they must rejoin.
func (c *Coordinator) Heartbeat(_ context.Context, req *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := kmsg.NewPtrHeartbeatResponse()
	resp.Version = req.Version
	resp.ErrorCode = c.heartbeat(req)
	return resp
}

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) int16 {
	if c.closed.Load() {
		return kerr.CoordinatorNotAvailable.Code
	}
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	g := c.lockGroup(req.Group, false)
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	defer g.mu.Unlock()

	var instanceID *string
	if req.Version >= 3 {
		instanceID = req.InstanceID
	}
	if err := g.validateMember(req.MemberID, instanceID); err != nil {
		return err.Code
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	m := g.members[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		c.scheduleSession(g, m, m.sessionTimeout)
		return kerr.RebalanceInProgress.Code
	case stateCompletingRebalance, stateStable:
		// Members may heartbeat between their JoinGroup answer and their
		// SyncGroup; that counts as liveness too.
		c.scheduleSession(g, m, m.sessionTimeout)
		return 0
	default:
		return kerr.UnknownMemberID.Code
	}
}
