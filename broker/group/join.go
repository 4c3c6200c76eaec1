package group

import (
	"bytes"
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// joinRequest is a JoinGroupRequest reduced to what the version allows.
type joinRequest struct {
	version          int16
	memberID         string
	instanceID       *string
	protocolType     string
	protocols        []protocol
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	client           ClientInfo
}

// joinOutcome is how a JoinGroup continues once the group lock is released:
// with an answer now, or by waiting on a channel for the join phase to end.
type joinOutcome struct {
	result  joinResult
	wait    chan joinResult
	persist bool
}

func answerNow(code int16, memberID string) joinOutcome {
	return joinOutcome{result: joinResult{errCode: code, memberID: memberID}}
}

// JoinGroup adds the caller to a group or rejoins it, blocking until the join
// phase of the rebalance completes or ctx ends. A new member of a v4+ client
// first gets MEMBER_ID_REQUIRED with its id and must join again with it. If
// ctx ends first, the answer is REBALANCE_IN_PROGRESS, which makes a client
// join again.
func (c *Coordinator) JoinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	out := c.joinGroup(ctx, req)
	if out.wait != nil {
		select {
		case out.result = <-out.wait:
		case <-ctx.Done():
			out.result = joinResult{errCode: kerr.RebalanceInProgress.Code, memberID: req.MemberID}
		}
	}
	return out.result.response(req.Version)
}

func (c *Coordinator) joinGroup(ctx context.Context, req *kmsg.JoinGroupRequest) joinOutcome {
	if c.closed.Load() {
		return answerNow(kerr.CoordinatorNotAvailable.Code, req.MemberID)
	}
	if req.Group == "" {
		return answerNow(kerr.InvalidGroupID.Code, req.MemberID)
	}
	jr := parseJoin(ctx, req)
	if jr.sessionTimeout < c.cfg.MinSessionTimeout || jr.sessionTimeout > c.cfg.MaxSessionTimeout {
		return answerNow(kerr.InvalidSessionTimeout.Code, req.MemberID)
	}
	if req.Reason != nil {
		c.log.Debug("join request", "group", req.Group, "member", req.MemberID, "reason", *req.Reason)
	}

	g := c.lockGroup(req.Group, jr.memberID == "")
	if g == nil {
		return answerNow(kerr.UnknownMemberID.Code, req.MemberID)
	}
	if c.closed.Load() {
		// Close may have answered this group's waiters already; a waiter
		// registered now would never be answered.
		g.mu.Unlock()
		return answerNow(kerr.CoordinatorNotAvailable.Code, req.MemberID)
	}
	var out joinOutcome
	if jr.memberID == "" {
		out = c.joinNewMember(g, jr)
		if out.result.errCode != 0 && out.result.errCode != kerr.MemberIDRequired.Code {
			c.forgetIfUnused(g)
		}
	} else {
		out = c.joinKnownMember(g, jr)
	}
	g.mu.Unlock()

	// A refused join can empty the group (its member was over the size
	// limit), and a static member's replacement must be durable before it
	// is answered.
	if err := c.flushMetadata(g); err != nil && out.persist {
		return answerNow(journalErrCode(err), out.result.memberID)
	}
	return out
}

func parseJoin(ctx context.Context, req *kmsg.JoinGroupRequest) joinRequest {
	jr := joinRequest{
		version:          req.Version,
		memberID:         req.MemberID,
		protocolType:     req.ProtocolType,
		sessionTimeout:   time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		rebalanceTimeout: time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond,
		client:           clientInfoFrom(ctx),
	}
	if req.Version >= 5 && req.InstanceID != nil {
		id := *req.InstanceID
		jr.instanceID = &id
	}
	// v0 has no rebalance timeout: Kafka then uses the session timeout.
	if req.Version == 0 || jr.rebalanceTimeout <= 0 {
		jr.rebalanceTimeout = jr.sessionTimeout
	}
	// The request may alias the connection's read buffer; the group keeps
	// the metadata for whole generations.
	jr.protocols = make([]protocol, len(req.Protocols))
	for i, p := range req.Protocols {
		jr.protocols[i] = protocol{name: p.Name, metadata: bytes.Clone(p.Metadata)}
		if jr.protocols[i].metadata == nil {
			jr.protocols[i].metadata = []byte{}
		}
	}
	return jr
}

// acceptsJoin applies group.max.size the way Kafka does: while members
// rejoin, the count of those already rejoined decides, so that the last ones
// to rejoin a group over its (possibly lowered) limit are the ones refused.
func (c *Coordinator) acceptsJoin(g *group, memberID string) bool {
	limit := c.cfg.MaxGroupSize
	if limit <= 0 {
		return true
	}
	m := g.members[memberID]
	switch g.state {
	case statePreparingRebalance:
		return (m != nil && m.awaitingJoin()) || g.numAwaitingJoin() < limit
	case stateCompletingRebalance, stateStable:
		return m != nil || len(g.members) < limit
	default:
		return true
	}
}

func (c *Coordinator) joinNewMember(g *group, jr joinRequest) joinOutcome {
	if !c.acceptsJoin(g, "") {
		return answerNow(kerr.GroupMaxSizeReached.Code, "")
	}
	if !g.supportsProtocols(jr.protocolType, jr.protocols) {
		return answerNow(kerr.InconsistentGroupProtocol.Code, "")
	}
	prefix := jr.client.ID
	if jr.instanceID != nil {
		prefix = *jr.instanceID
	}
	newID := prefix + "-" + uuid.NewString()

	if jr.instanceID != nil {
		if oldID, ok := g.static[*jr.instanceID]; ok {
			return c.replaceStaticMember(g, oldID, newID, jr)
		}
		return joinOutcome{wait: c.addMemberAndRebalance(g, newID, jr)}
	}
	if jr.version >= 4 {
		// KIP-394: the id is handed out first so that a client that times
		// out and retries rejoins as the same member instead of piling up
		// anonymous members for the coordinator to wait on.
		g.pending[newID] = c.afterFunc(g, jr.sessionTimeout, func() {
			if _, ok := g.pending[newID]; ok {
				delete(g.pending, newID)
				c.tryCompleteJoin(g)
				c.forgetIfUnused(g)
			}
		})
		return answerNow(kerr.MemberIDRequired.Code, newID)
	}
	return joinOutcome{wait: c.addMemberAndRebalance(g, newID, jr)}
}

func (c *Coordinator) joinKnownMember(g *group, jr joinRequest) joinOutcome {
	id := jr.memberID
	if !c.acceptsJoin(g, id) {
		if m := g.members[id]; m != nil {
			c.removeMember(g, m, "group is over its maximum size")
		} else if t, ok := g.pending[id]; ok {
			t.Stop()
			delete(g.pending, id)
			c.tryCompleteJoin(g)
		}
		return answerNow(kerr.GroupMaxSizeReached.Code, id)
	}
	if !g.supportsProtocols(jr.protocolType, jr.protocols) {
		return answerNow(kerr.InconsistentGroupProtocol.Code, id)
	}
	if t, ok := g.pending[id]; ok && jr.instanceID == nil {
		t.Stop()
		delete(g.pending, id)
		return joinOutcome{wait: c.addMemberAndRebalance(g, id, jr)}
	}
	if err := g.validateMember(id, jr.instanceID); err != nil {
		return answerNow(err.Code, id)
	}
	m := g.members[id]
	switch g.state {
	case statePreparingRebalance:
		return joinOutcome{wait: c.updateMemberAndRebalance(g, m, jr, "member rejoined")}
	case stateCompletingRebalance:
		if m.sameProtocols(jr.protocols) {
			// The member lost our answer (e.g. a timeout on its side); give
			// it again rather than starting over.
			c.scheduleSession(g, m, m.sessionTimeout)
			return joinOutcome{result: g.joinResultFor(m)}
		}
		return joinOutcome{wait: c.updateMemberAndRebalance(g, m, jr, "member changed its metadata")}
	case stateStable:
		if m.id == g.leader {
			// The leader rejoining is how a consumer asks for a new
			// assignment (e.g. its subscription matched a new topic).
			return joinOutcome{wait: c.updateMemberAndRebalance(g, m, jr, "leader rejoined")}
		}
		if !m.sameProtocols(jr.protocols) {
			return joinOutcome{wait: c.updateMemberAndRebalance(g, m, jr, "member changed its metadata")}
		}
		c.scheduleSession(g, m, m.sessionTimeout)
		return joinOutcome{result: g.joinResultFor(m)}
	default:
		return answerNow(kerr.UnknownMemberID.Code, id)
	}
}

// addMemberAndRebalance adds a member and returns the channel its JoinGroup
// answer will arrive on (possibly already).
func (c *Coordinator) addMemberAndRebalance(g *group, id string, jr joinRequest) chan joinResult {
	if len(g.members) == 0 {
		g.protocolType = jr.protocolType
	}
	g.nextJoinSeq++
	m := &member{
		id:               id,
		instanceID:       jr.instanceID,
		clientID:         jr.client.ID,
		clientHost:       jr.client.Host,
		joinSeq:          g.nextJoinSeq,
		sessionTimeout:   jr.sessionTimeout,
		rebalanceTimeout: jr.rebalanceTimeout,
		protocols:        jr.protocols,
		isNew:            true,
		joinWaiter:       make(chan joinResult, 1),
	}
	g.members[id] = m
	if jr.instanceID != nil {
		g.static[*jr.instanceID] = id
	}
	if g.leader == "" {
		g.leader = id
	}
	if g.state == statePreparingRebalance && g.initialDelay {
		g.newMemberAdded = true
	}
	c.scheduleSession(g, m, newMemberJoinTimeout)
	wait := m.joinWaiter
	c.maybePrepareRebalance(g, "member "+id+" joined")
	c.tryCompleteJoin(g)
	return wait
}

func (c *Coordinator) updateMemberAndRebalance(g *group, m *member, jr joinRequest, reason string) chan joinResult {
	// A second JoinGroup for the same member supersedes the first, whose
	// connection is most likely gone.
	m.answerJoin(joinResult{errCode: kerr.RebalanceInProgress.Code, memberID: m.id})
	m.protocols = jr.protocols
	m.sessionTimeout = jr.sessionTimeout
	m.rebalanceTimeout = jr.rebalanceTimeout
	m.joinWaiter = make(chan joinResult, 1)
	wait := m.joinWaiter
	c.maybePrepareRebalance(g, reason+": "+m.id)
	c.tryCompleteJoin(g)
	return wait
}

// replaceStaticMember hands a static member's place to a new incarnation of
// it (same group.instance.id, new member id) and fences the old one. A
// stable group keeps its generation and assignment: that is the point of
// static membership (KIP-345).
func (c *Coordinator) replaceStaticMember(g *group, oldID, newID string, jr joinRequest) joinOutcome {
	old := g.members[oldID]
	fenced := kerr.FencedInstanceID.Code
	old.answerJoin(joinResult{errCode: fenced, memberID: oldID})
	old.answerSync(syncResult{errCode: fenced})
	stopTimer(old.session)
	old.sessionSeq++
	delete(g.members, oldID)
	delete(g.pendingSync, oldID)

	m := &member{
		id:               newID,
		instanceID:       jr.instanceID,
		clientID:         jr.client.ID,
		clientHost:       jr.client.Host,
		joinSeq:          old.joinSeq,
		sessionTimeout:   jr.sessionTimeout,
		rebalanceTimeout: jr.rebalanceTimeout,
		protocols:        jr.protocols,
		assignment:       old.assignment,
	}
	g.members[newID] = m
	g.static[*jr.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	c.scheduleSession(g, m, m.sessionTimeout)
	c.log.Info("static member replaced", "group", g.name, "instance", *jr.instanceID, "old", oldID, "new", newID)

	if g.state == stateStable && g.selectProtocol() == g.protocol {
		g.metadataDirty = true
		r := g.joinResultFor(m)
		// The leader of a stable group already assigned; KIP-814 tells it
		// not to assign again.
		r.skipAssignment = m.id == g.leader
		return joinOutcome{result: r, persist: true}
	}
	m.joinWaiter = make(chan joinResult, 1)
	wait := m.joinWaiter
	if g.state == statePreparingRebalance {
		c.tryCompleteJoin(g)
	} else {
		// The leader may be assigning for the old member id, which would
		// leave the new one without partitions.
		c.prepareRebalance(g, "static member "+*jr.instanceID+" replaced")
	}
	return joinOutcome{wait: wait}
}

func (r joinResult) response(version int16) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.ErrorCode = r.errCode
	resp.MemberID = r.memberID
	if r.errCode != 0 {
		return resp
	}
	resp.Generation = r.generation
	if version >= 7 {
		resp.ProtocolType = &r.protocolType
	}
	resp.Protocol = &r.protocol
	resp.LeaderID = r.leader
	if version >= 9 {
		resp.SkipAssignment = r.skipAssignment
	}
	resp.Members = r.members
	if version < 5 {
		for i := range resp.Members {
			resp.Members[i].InstanceID = nil
		}
	}
	return resp
}
