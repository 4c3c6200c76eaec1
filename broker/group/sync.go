package group

import (
	"bytes"
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type syncOutcome struct {
	result syncResult
	wait   chan syncResult
}

func syncErr(code int16) syncOutcome { return syncOutcome{result: syncResult{errCode: code}} }

// SyncGroup completes a rebalance: the leader sends the assignment it
// computed, which is journaled and then handed to every member; followers
// wait for it. In a stable group it returns the member's current assignment.
// If ctx ends while waiting, the answer is REBALANCE_IN_PROGRESS.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	out := c.syncGroup(req)
	if out.wait != nil {
		select {
		case out.result = <-out.wait:
		case <-ctx.Done():
			out.result = syncResult{errCode: kerr.RebalanceInProgress.Code}
		}
	}
	return out.result.response(req.Version)
}

func (c *Coordinator) syncGroup(req *kmsg.SyncGroupRequest) syncOutcome {
	if c.closed.Load() {
		return syncErr(kerr.CoordinatorNotAvailable.Code)
	}
	if req.Group == "" {
		return syncErr(kerr.InvalidGroupID.Code)
	}
	// journalMu is needed only by the leader, but taking it first for every
	// member keeps the lock order simple; followers release it before
	// they wait.
	g := c.lockGroupForJournal(req.Group, false)
	if g == nil {
		return syncErr(kerr.UnknownMemberID.Code)
	}
	defer g.journalMu.Unlock()
	defer g.mu.Unlock()
	if c.closed.Load() {
		// See joinGroup: Close may be done with this group.
		return syncErr(kerr.CoordinatorNotAvailable.Code)
	}

	var instanceID *string
	if req.Version >= 3 {
		instanceID = req.InstanceID
	}
	if err := g.validateMember(req.MemberID, instanceID); err != nil {
		return syncErr(err.Code)
	}
	if req.Generation != g.generation {
		return syncErr(kerr.IllegalGeneration.Code)
	}
	if req.Version >= 5 {
		if (req.ProtocolType != nil && *req.ProtocolType != g.protocolType) ||
			(req.Protocol != nil && *req.Protocol != g.protocol) {
			return syncErr(kerr.InconsistentGroupProtocol.Code)
		}
	}
	m := g.members[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		return syncErr(kerr.RebalanceInProgress.Code)
	case stateStable:
		delete(g.pendingSync, m.id)
		c.scheduleSession(g, m, m.sessionTimeout)
		return syncOutcome{result: g.syncResultFor(m)}
	case stateCompletingRebalance:
	default:
		return syncErr(kerr.UnknownMemberID.Code)
	}

	m.answerSync(syncResult{errCode: kerr.RebalanceInProgress.Code})
	m.syncWaiter = make(chan syncResult, 1)
	wait := m.syncWaiter
	delete(g.pendingSync, m.id)
	c.scheduleSession(g, m, m.sessionTimeout)
	if m.id == g.leader {
		c.storeAssignment(g, req.GroupAssignment)
	}
	return syncOutcome{wait: wait}
}

// storeAssignment journals the leader's assignment with the group metadata
// and, once durable, hands each member its part. It is called with journalMu
// and mu held and releases mu during the append.
func (c *Coordinator) storeAssignment(g *group, proposed []kmsg.SyncGroupRequestGroupAssignment) {
	assignments := make(map[string][]byte, len(g.members))
	for _, a := range proposed {
		if _, ok := g.members[a.MemberID]; ok {
			assignments[a.MemberID] = bytes.Clone(a.MemberAssignment)
		}
	}
	for id := range g.members {
		if assignments[id] == nil {
			// Kafka gives members the leader left out an empty assignment.
			assignments[id] = []byte{}
		}
	}
	generation := g.generation
	rec := g.metadataRecord(c.clock.Now(), assignments)
	g.metadataDirty = false

	g.mu.Unlock()
	err := c.append([]JournalRecord{rec})
	g.mu.Lock()

	if g.state != stateCompletingRebalance || g.generation != generation {
		// A rebalance started meanwhile and already told the waiting
		// members to rejoin; the record is superseded by the next one.
		g.metadataDirty = true
		return
	}
	if err != nil {
		c.log.Error("group assignment not journaled", "group", g.name, "generation", generation, "err", err)
		code := journalErrCode(err)
		for _, m := range g.members {
			m.assignment = nil
			m.answerSync(syncResult{errCode: code})
		}
		g.metadataDirty = true
		c.prepareRebalance(g, "assignment could not be journaled")
		return
	}
	for id, m := range g.members {
		m.assignment = assignments[id]
		m.answerSync(g.syncResultFor(m))
	}
	g.transition(stateStable, c.clock.Now())
	c.log.Info("group stable", "group", g.name, "generation", g.generation, "members", len(g.members))
}

func (g *group) syncResultFor(m *member) syncResult {
	return syncResult{
		protocolType: g.protocolType,
		protocol:     g.protocol,
		assignment:   bytes.Clone(m.assignment),
	}
}

func (r syncResult) response(version int16) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	resp.ErrorCode = r.errCode
	if r.errCode != 0 {
		return resp
	}
	if version >= 5 {
		resp.ProtocolType = &r.protocolType
		resp.Protocol = &r.protocol
	}
	resp.MemberAssignment = r.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}
