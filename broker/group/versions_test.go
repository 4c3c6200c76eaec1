package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// wire encodes a response at its version and decodes it again, as the
// listener and a client would: it catches fields filled that the version
// cannot carry and values the encoding would lose.
func wire[R kmsg.Response](t *testing.T, resp R) R {
	t.Helper()
	decoded := kmsg.ResponseForKey(resp.Key())
	decoded.SetVersion(resp.GetVersion())
	if err := decoded.ReadFrom(resp.AppendTo(nil)); err != nil {
		t.Fatalf("key %d v%d: response does not decode: %v", resp.Key(), resp.GetVersion(), err)
	}
	return decoded.(R)
}

func TestEveryJoinGroupVersion(t *testing.T) {
	for v := int16(0); v <= (*kmsg.JoinGroupRequest)(nil).MaxVersion(); v++ {
		h := newHarness(t, Config{InitialRebalanceDelay: -1})
		req := joinReq("g", "", "a")
		req.Version = v
		resp := wire(t, h.c.JoinGroup(clientCtx("a"), req))
		if v >= 4 {
			wantCode(t, "first join", resp.ErrorCode, kerr.MemberIDRequired)
			req.MemberID = resp.MemberID
			resp = wire(t, h.c.JoinGroup(clientCtx("a"), req))
		}
		wantCode(t, "join", resp.ErrorCode, nil)
		if resp.Generation != 1 || resp.LeaderID != resp.MemberID || len(resp.Members) != 1 || *resp.Protocol != "range" {
			t.Fatalf("v%d: %+v", v, resp)
		}
		if v == 0 {
			h.inspect("g", func(g *group) {
				if m := g.members[resp.MemberID]; m.rebalanceTimeout != testSession {
					t.Fatalf("v0 rebalance timeout %v, want the session timeout", m.rebalanceTimeout)
				}
			})
		}
	}
}

func TestEveryGroupAPIVersion(t *testing.T) {
	h := newHarness(t, Config{Topics: staticTopics{"t": {1}}})
	ids, gen := stableGroup(h, "g", "a")
	ctx := context.Background()

	for v := int16(0); v <= (*kmsg.SyncGroupRequest)(nil).MaxVersion(); v++ {
		req := syncReq("g", ids[0], gen, nil)
		req.Version = v
		if r := wire(t, h.c.SyncGroup(ctx, req)); r.ErrorCode != 0 || string(r.MemberAssignment) != "assign-a" {
			t.Fatalf("SyncGroup v%d: %+v", v, r)
		}
	}
	for v := int16(0); v <= (*kmsg.HeartbeatRequest)(nil).MaxVersion(); v++ {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version, req.Group, req.MemberID, req.Generation = v, "g", ids[0], gen
		wantCode(t, "heartbeat", wire(t, h.c.Heartbeat(ctx, req)).ErrorCode, nil)
	}
	for v := int16(0); v <= (*kmsg.OffsetCommitRequest)(nil).MaxVersion(); v++ {
		req := commitReq("g", ids[0], gen, commitOf{"t", 0, int64(v), 0, "m"})
		req.Version = v
		if v == 0 {
			// v0 has no generation: only simple commits exist.
			req = commitReq("simple", "", -1, commitOf{"t", 0, 0, 0, "m"})
			req.Version = 0
		}
		if v >= 10 {
			req.Topics[0].TopicID = [16]byte{1}
		}
		r := wire(t, h.c.OffsetCommit(ctx, req))
		wantCode(t, "commit", r.Topics[0].Partitions[0].ErrorCode, nil)
	}
	for v := int16(0); v <= (*kmsg.OffsetFetchRequest)(nil).MaxVersion(); v++ {
		req := fetchV7("g", map[string][]int32{"t": {0}})
		req.Version = v
		if v >= 8 {
			rg := kmsg.NewOffsetFetchRequestGroup()
			rg.Group = "g"
			rt := kmsg.NewOffsetFetchRequestGroupTopic()
			rt.Topic, rt.TopicID, rt.Partitions = "t", [16]byte{1}, []int32{0}
			rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{rt}
			req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
		}
		r := wire(t, h.c.OffsetFetch(ctx, req))
		var off int64
		if v >= 8 {
			off = r.Groups[0].Topics[0].Partitions[0].Offset
		} else {
			off = r.Topics[0].Partitions[0].Offset
		}
		if off != int64((*kmsg.OffsetCommitRequest)(nil).MaxVersion()) {
			t.Fatalf("OffsetFetch v%d: offset %d", v, off)
		}
	}
	for v := int16(0); v <= (*kmsg.DescribeGroupsRequest)(nil).MaxVersion(); v++ {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Version, req.Groups = v, []string{"g"}
		if r := wire(t, h.c.DescribeGroups(ctx, req)); r.Groups[0].State != "Stable" || len(r.Groups[0].Members) != 1 {
			t.Fatalf("DescribeGroups v%d: %+v", v, r)
		}
	}
	for v := int16(0); v <= (*kmsg.ListGroupsRequest)(nil).MaxVersion(); v++ {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = v
		if r := wire(t, h.c.ListGroups(ctx, req)); len(r.Groups) != 2 {
			t.Fatalf("ListGroups v%d: %+v", v, r)
		}
	}
	for v := int16(0); v <= (*kmsg.DeleteGroupsRequest)(nil).MaxVersion(); v++ {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version, req.Groups = v, []string{"g"}
		wantCode(t, "delete busy group", wire(t, h.c.DeleteGroups(ctx, req)).Groups[0].ErrorCode, kerr.NonEmptyGroup)
	}
	for v := int16(0); v <= (*kmsg.LeaveGroupRequest)(nil).MaxVersion(); v++ {
		// Each version leaves a member that has just joined (v3 join: no
		// MEMBER_ID_REQUIRED step).
		join := joinReq("leavers", "", "x")
		join.Version = 3
		j := h.joinAsync("x", join)
		h.waitAwaitingJoin("leavers", 1)
		h.clock.Advance(testDelay)
		id := recvJoin(t, j).MemberID
		r := wire(t, h.c.LeaveGroup(ctx, leaveReq("leavers", v, id)))
		if r.ErrorCode != 0 || (v >= 3 && r.Members[0].ErrorCode != 0) {
			t.Fatalf("LeaveGroup v%d: %+v", v, r)
		}
	}
}
