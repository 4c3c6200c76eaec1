package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// This file holds the rebalance state machine. Every function here runs with
// g.mu held and never blocks: waiting requests are answered through their
// buffered waiter channels.

// maybePrepareRebalance starts a rebalance unless one is already under way.
func (c *Coordinator) maybePrepareRebalance(g *group, reason string) {
	switch g.state {
	case stateEmpty, stateStable, stateCompletingRebalance:
		c.prepareRebalance(g, reason)
	}
}

// prepareRebalance moves g to PreparingRebalance: members must rejoin before
// the join deadline. The first rebalance of an empty group instead waits the
// initial delay, so that a fleet of consumers starting together lands in one
// generation rather than in one rebalance per arrival.
func (c *Coordinator) prepareRebalance(g *group, reason string) {
	if g.state == stateCompletingRebalance {
		// The assignment being computed is for a membership that no longer
		// holds; members waiting for it must rejoin.
		for _, m := range g.members {
			m.assignment = nil
			m.answerSync(syncResult{errCode: kerr.RebalanceInProgress.Code})
		}
	}
	stopTimer(g.syncTimer)
	g.syncTimerSeq++
	clear(g.pendingSync)

	fromEmpty := g.state == stateEmpty
	g.transition(statePreparingRebalance, c.clock.Now())
	c.log.Info("preparing rebalance", "group", g.name, "generation", g.generation,
		"members", len(g.members), "reason", reason)

	timeout := g.maxRebalanceTimeout()
	if fromEmpty && c.cfg.InitialRebalanceDelay > 0 {
		g.initialDelay = true
		g.newMemberAdded = false
		delay := c.cfg.InitialRebalanceDelay
		c.armInitialDelay(g, delay, delay, max(timeout-delay, 0))
		return
	}
	g.initialDelay = false
	c.armJoinTimer(g, timeout, func() { c.completeJoin(g) })
	c.tryCompleteJoin(g)
}

// armInitialDelay waits wait, then either extends the delay (a member arrived
// meanwhile and rebalance time remains) or completes the join.
func (c *Coordinator) armInitialDelay(g *group, wait, delay, remaining time.Duration) {
	c.armJoinTimer(g, wait, func() {
		if g.newMemberAdded && remaining > 0 {
			g.newMemberAdded = false
			c.armInitialDelay(g, min(delay, remaining), delay, max(remaining-delay, 0))
			return
		}
		c.completeJoin(g)
	})
}

func (c *Coordinator) armJoinTimer(g *group, d time.Duration, f func()) {
	stopTimer(g.joinTimer)
	g.joinTimerSeq++
	seq := g.joinTimerSeq
	g.joinTimer = c.afterFunc(g, d, func() {
		if g.joinTimerSeq == seq && g.state == statePreparingRebalance {
			f()
		}
	})
}

// tryCompleteJoin ends the join phase early once everybody has rejoined.
func (c *Coordinator) tryCompleteJoin(g *group) {
	if g.state == statePreparingRebalance && !g.initialDelay && g.allJoined() {
		c.completeJoin(g)
	}
}

// completeJoin ends the join phase: members that did not rejoin are dropped,
// the generation advances, and every waiting member gets its JoinGroup
// answer, the leader with everybody's metadata.
func (c *Coordinator) completeJoin(g *group) {
	stopTimer(g.joinTimer)
	g.joinTimerSeq++
	g.initialDelay = false

	for _, m := range g.members {
		// Static members keep their place without rejoining (KIP-345); only
		// their session timeout removes them.
		if !m.awaitingJoin() && m.instanceID == nil {
			c.log.Info("removing member that did not rejoin", "group", g.name, "member", m.id)
			c.dropMember(g, m, kerr.UnknownMemberID.Code)
		}
	}
	if len(g.members) > 0 {
		if leader := g.members[g.leader]; leader == nil || !leader.awaitingJoin() {
			joined := g.earliestMember((*member).awaitingJoin)
			if joined == nil {
				// Only static members that have not rejoined remain: give them
				// another rebalance timeout instead of a generation nobody
				// asked for.
				c.armJoinTimer(g, g.maxRebalanceTimeout(), func() { c.completeJoin(g) })
				return
			}
			g.leader = joined.id
		}
	}

	now := c.clock.Now()
	g.generation++
	if len(g.members) == 0 {
		g.leader = ""
		g.protocol = ""
		g.transition(stateEmpty, now)
		g.metadataDirty = true
		c.log.Info("group is empty", "group", g.name, "generation", g.generation)
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(stateCompletingRebalance, now)
	c.log.Info("join phase complete", "group", g.name, "generation", g.generation,
		"protocol", g.protocol, "leader", g.leader, "members", len(g.members))
	for _, m := range g.members {
		m.answerJoin(g.joinResultFor(m))
		m.isNew = false
		c.scheduleSession(g, m, m.sessionTimeout)
		g.pendingSync[m.id] = true
	}
	c.armSyncTimer(g, g.maxRebalanceTimeout())
}

// armSyncTimer gives members that got a JoinGroup answer one rebalance
// timeout to send SyncGroup; those that do not are removed, since a group
// cannot become stable around a member that never learns its assignment.
func (c *Coordinator) armSyncTimer(g *group, d time.Duration) {
	stopTimer(g.syncTimer)
	g.syncTimerSeq++
	seq := g.syncTimerSeq
	g.syncTimer = c.afterFunc(g, d, func() {
		if g.syncTimerSeq != seq || len(g.pendingSync) == 0 {
			return
		}
		if g.state != stateCompletingRebalance && g.state != stateStable {
			return
		}
		for id := range g.pendingSync {
			if m := g.members[id]; m != nil {
				c.log.Info("removing member that did not sync", "group", g.name, "member", id)
				c.dropMember(g, m, kerr.UnknownMemberID.Code)
			}
		}
		c.prepareRebalance(g, "members failed to sync in time")
	})
}

// scheduleSession (re)starts m's session timer.
func (c *Coordinator) scheduleSession(g *group, m *member, d time.Duration) {
	stopTimer(m.session)
	m.sessionSeq++
	seq := m.sessionSeq
	m.session = c.afterFunc(g, d, func() { c.sessionExpired(g, m, seq) })
}

func (c *Coordinator) sessionExpired(g *group, m *member, seq uint64) {
	if g.members[m.id] != m || m.sessionSeq != seq {
		return
	}
	if !m.isNew && (m.awaitingJoin() || m.awaitingSync()) {
		// A member blocked in JoinGroup or SyncGroup cannot heartbeat; the
		// join and sync deadlines cover it instead.
		c.scheduleSession(g, m, m.sessionTimeout)
		return
	}
	c.log.Info("member session expired", "group", g.name, "member", m.id)
	c.removeMember(g, m, "member session expired")
}

// removeMember takes m out of the group and lets the group react.
func (c *Coordinator) removeMember(g *group, m *member, reason string) {
	c.dropMember(g, m, kerr.UnknownMemberID.Code)
	switch g.state {
	case stateStable, stateCompletingRebalance:
		c.prepareRebalance(g, reason)
	case statePreparingRebalance:
		c.tryCompleteJoin(g)
	}
}

// dropMember forgets m, answering its waiting requests with errCode, without
// any state transition.
func (c *Coordinator) dropMember(g *group, m *member, errCode int16) {
	m.answerJoin(joinResult{errCode: errCode, memberID: m.id})
	m.answerSync(syncResult{errCode: errCode})
	stopTimer(m.session)
	m.sessionSeq++
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if next := g.earliestMember(func(*member) bool { return true }); next != nil {
			g.leader = next.id
		}
	}
}
