package group

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicGroupType is the ListGroups v5+ type of every group here: eddy runs
// only the classic protocol, not KIP-848 consumer groups.
const classicGroupType = "classic"

// DescribeGroups reports each group's state, protocol and members. Member
// metadata and assignments are shown only for stable groups, as Kafka does.
// An unknown group is Dead, with GROUP_ID_NOT_FOUND from v6.
func (c *Coordinator) DescribeGroups(_ context.Context, req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := kmsg.NewPtrDescribeGroupsResponse()
	resp.Version = req.Version
	for _, name := range req.Groups {
		resp.Groups = append(resp.Groups, c.describe(name, req.Version))
	}
	return resp
}

func (c *Coordinator) describe(name string, version int16) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group = name
	if c.closed.Load() {
		dg.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return dg
	}
	var g *group
	if name != "" {
		g = c.lockGroup(name, false)
	}
	if g == nil {
		dg.State = stateDead.String()
		if version >= 6 {
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			msg := "group " + name + " not found"
			dg.ErrorMessage = &msg
		}
		return dg
	}
	defer g.mu.Unlock()
	dg.State = g.state.String()
	dg.ProtocolType = g.protocolType
	stable := g.state == stateStable
	if stable {
		dg.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		if version >= 4 {
			dm.InstanceID = m.instanceID
		}
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.ProtocolMetadata = []byte{}
		dm.MemberAssignment = []byte{}
		if stable {
			dm.ProtocolMetadata = bytes.Clone(m.metadataFor(g.protocol))
			dm.MemberAssignment = bytes.Clone(m.assignment)
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}

// ListGroups lists live groups, including empty ones that only hold
// offsets, filtered by state (v4+) and type (v5+), sorted by name.
func (c *Coordinator) ListGroups(_ context.Context, req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := kmsg.NewPtrListGroupsResponse()
	resp.Version = req.Version
	if c.closed.Load() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	var states, types []string
	if req.Version >= 4 {
		states = req.StatesFilter
	}
	if req.Version >= 5 {
		types = req.TypesFilter
	}
	if len(types) > 0 && !slices.ContainsFunc(types, func(t string) bool { return strings.EqualFold(t, classicGroupType) }) {
		return resp
	}
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		if g.state != stateDead && stateMatches(g.state, states) {
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group = g.name
			lg.ProtocolType = g.protocolType
			if req.Version >= 4 {
				lg.GroupState = g.state.String()
			}
			if req.Version >= 5 {
				lg.GroupType = classicGroupType
			}
			resp.Groups = append(resp.Groups, lg)
		}
		g.mu.Unlock()
	}
	slices.SortFunc(resp.Groups, func(a, b kmsg.ListGroupsResponseGroup) int { return cmp.Compare(a.Group, b.Group) })
	return resp
}

// DeleteGroups deletes empty groups with their offsets, journaling a
// tombstone for each; a group with members gets NON_EMPTY_GROUP.
func (c *Coordinator) DeleteGroups(_ context.Context, req *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := kmsg.NewPtrDeleteGroupsResponse()
	resp.Version = req.Version
	for _, name := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = name
		dg.ErrorCode = c.deleteGroup(name)
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(name string) int16 {
	if c.closed.Load() {
		return kerr.CoordinatorNotAvailable.Code
	}
	if name == "" {
		return kerr.InvalidGroupID.Code
	}
	g := c.lockGroupForJournal(name, false)
	if g == nil {
		return kerr.GroupIDNotFound.Code
	}
	defer g.journalMu.Unlock()
	defer g.mu.Unlock()
	if g.state != stateEmpty {
		return kerr.NonEmptyGroup.Code
	}
	tps := make([]topicPartition, 0, len(g.offsets))
	for tp := range g.offsets {
		tps = append(tps, tp)
	}
	records := append(offsetTombstones(g.name, tps), groupTombstone(g.name))
	// mu stays held: the group is empty, so nobody waits on it, and a
	// member must not join a group whose tombstones are being written.
	if err := c.append(records); err != nil {
		c.log.Error("group deletion not journaled", "group", name, "err", err)
		return journalErrCode(err)
	}
	clear(g.offsets)
	c.markDead(g)
	c.log.Info("group deleted", "group", name)
	return 0
}
