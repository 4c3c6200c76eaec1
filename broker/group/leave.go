package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup removes members (one before v3, a batch from v3) and starts a
// rebalance for those who stay.
func (c *Coordinator) LeaveGroup(_ context.Context, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := kmsg.NewPtrLeaveGroupResponse()
	resp.Version = req.Version

	leavers := req.Members
	if req.Version < 3 {
		one := kmsg.NewLeaveGroupRequestMember()
		one.MemberID = req.MemberID
		leavers = []kmsg.LeaveGroupRequestMember{one}
	}
	codes, top := c.leaveGroup(req.Group, leavers)
	switch {
	case top != 0:
		resp.ErrorCode = top
	case req.Version < 3:
		resp.ErrorCode = codes[0]
	default:
		for i, l := range leavers {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID = l.MemberID
			rm.InstanceID = l.InstanceID
			rm.ErrorCode = codes[i]
			resp.Members = append(resp.Members, rm)
		}
	}
	return resp
}

// leaveGroup returns one error code per leaver, or a group-wide code.
func (c *Coordinator) leaveGroup(name string, leavers []kmsg.LeaveGroupRequestMember) ([]int16, int16) {
	if c.closed.Load() {
		return nil, kerr.CoordinatorNotAvailable.Code
	}
	if name == "" {
		return nil, kerr.InvalidGroupID.Code
	}
	g := c.lockGroup(name, false)
	if g == nil {
		return nil, kerr.UnknownMemberID.Code
	}
	codes := make([]int16, len(leavers))
	for i, l := range leavers {
		codes[i] = c.leave(g, l)
		if l.Reason != nil {
			c.log.Debug("leave request", "group", name, "member", l.MemberID, "reason", *l.Reason)
		}
	}
	c.forgetIfUnused(g)
	g.mu.Unlock()
	// The last member leaving makes the group empty, which is journaled.
	_ = c.flushMetadata(g)
	return codes, 0
}

func (c *Coordinator) leave(g *group, l kmsg.LeaveGroupRequestMember) int16 {
	var m *member
	if l.InstanceID != nil {
		holder, ok := g.static[*l.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case l.MemberID != "" && l.MemberID != holder:
			return kerr.FencedInstanceID.Code
		}
		m = g.members[holder]
	} else {
		if t, ok := g.pending[l.MemberID]; ok {
			t.Stop()
			delete(g.pending, l.MemberID)
			c.tryCompleteJoin(g)
			return 0
		}
		m = g.members[l.MemberID]
		if m == nil {
			return kerr.UnknownMemberID.Code
		}
	}
	c.log.Info("member left", "group", g.name, "member", m.id)
	c.removeMember(g, m, "member "+m.id+" left")
	return 0
}
