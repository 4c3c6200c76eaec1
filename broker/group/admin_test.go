package group

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func listGroups(h *harness, version int16, states ...string) map[string]kmsg.ListGroupsResponseGroup {
	req := kmsg.NewPtrListGroupsRequest()
	req.Version = version
	req.StatesFilter = states
	out := make(map[string]kmsg.ListGroupsResponseGroup)
	for _, g := range h.c.ListGroups(context.Background(), req).Groups {
		out[g.Group] = g
	}
	return out
}

func TestListAndDescribeGroups(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "live", "a", "b")
	commitCode(t, h, commitReq("offsets-only", "", -1, commitOf{"t", 0, 1, 0, ""}))

	all := listGroups(h, 5)
	if len(all) != 2 {
		t.Fatalf("listed %v", all)
	}
	if g := all["live"]; g.ProtocolType != "consumer" || g.GroupState != "Stable" || g.GroupType != "classic" {
		t.Fatalf("live: %+v", g)
	}
	if g := all["offsets-only"]; g.ProtocolType != "" || g.GroupState != "Empty" {
		t.Fatalf("offsets-only: %+v", g)
	}
	if empty := listGroups(h, 4, "empty"); len(empty) != 1 || empty["offsets-only"].Group == "" {
		t.Fatalf("state filter (case-insensitive) gave %v", empty)
	}
	if old := listGroups(h, 3, "Empty"); len(old) != 2 || old["live"].GroupState != "" {
		t.Fatalf("v3 must ignore the v4 filter and state: %v", old)
	}
	typed := kmsg.NewPtrListGroupsRequest()
	typed.Version = 5
	typed.TypesFilter = []string{"consumer"}
	if got := h.c.ListGroups(context.Background(), typed).Groups; len(got) != 0 {
		t.Fatalf("type filter consumer listed classic groups: %v", got)
	}

	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = 6
	req.Groups = []string{"live", "offsets-only", "missing"}
	resp := h.c.DescribeGroups(context.Background(), req)
	live := resp.Groups[0]
	if live.State != "Stable" || live.Protocol != "range" || live.ProtocolType != "consumer" || len(live.Members) != 2 {
		t.Fatalf("describe live: %+v", live)
	}
	m := live.Members[1]
	if m.MemberID != ids[1] || m.ClientID != "b" || m.ClientHost != "/127.0.0.1" ||
		string(m.ProtocolMetadata) != "b:range" || string(m.MemberAssignment) != "assign-b" {
		t.Fatalf("describe member: %+v", m)
	}
	if e := resp.Groups[1]; e.State != "Empty" || e.ErrorCode != 0 || len(e.Members) != 0 {
		t.Fatalf("describe empty: %+v", e)
	}
	wantCode(t, "describe missing v6", resp.Groups[2].ErrorCode, kerr.GroupIDNotFound)
	req.Version = 5
	if miss := h.c.DescribeGroups(context.Background(), req).Groups[2]; miss.ErrorCode != 0 || miss.State != "Dead" {
		t.Fatalf("describe missing v5: %+v", miss)
	}

	// During a rebalance members are listed without metadata.
	rejoin := h.joinAsync("a", joinReq("live", ids[0], "a"))
	h.waitAwaitingJoin("live", 1)
	req.Groups = []string{"live"}
	d := h.c.DescribeGroups(context.Background(), req).Groups[0]
	if d.State != "PreparingRebalance" || d.Protocol != "" || len(d.Members) != 2 || len(d.Members[0].MemberAssignment) != 0 {
		t.Fatalf("describe while rebalancing: %+v", d)
	}
	h.c.JoinGroup(clientCtx("b"), joinReq("live", ids[1], "b"))
	if r := recvJoin(t, rejoin); r.Generation != gen+1 {
		t.Fatalf("rejoin generation %d", r.Generation)
	}
}

func TestDeleteGroups(t *testing.T) {
	h := newHarness(t, Config{})
	stableGroup(h, "busy", "a")
	commitCode(t, h, commitReq("idle", "", -1, commitOf{"t", 0, 1, 0, ""}, commitOf{"t", 1, 2, 0, ""}))
	before := len(h.journal.all())

	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Version = 2
	req.Groups = []string{"busy", "idle", "never"}
	resp := h.c.DeleteGroups(context.Background(), req)
	wantCode(t, "delete busy", resp.Groups[0].ErrorCode, kerr.NonEmptyGroup)
	wantCode(t, "delete idle", resp.Groups[1].ErrorCode, nil)
	wantCode(t, "delete unknown", resp.Groups[2].ErrorCode, kerr.GroupIDNotFound)

	if _, ok := listGroups(h, 4)["idle"]; ok {
		t.Fatal("deleted group still listed")
	}
	if _, _, ok := h.c.Committed("idle", "t", 0); ok {
		t.Fatal("offsets of a deleted group remain")
	}
	tombstones := h.journal.all()[before:]
	if len(tombstones) != 3 {
		t.Fatalf("deletion journaled %d records, want 2 offset tombstones and a group one", len(tombstones))
	}
	for _, r := range tombstones {
		if r.Value != nil {
			t.Fatalf("deletion journaled a non-tombstone %x", r.Key)
		}
	}
	if v := decodeKeyVersion(tombstones[2].Key); v != 2 {
		t.Fatalf("last tombstone has key version %d, want the group metadata key", v)
	}

	// A failing journal keeps the group.
	commitCode(t, h, commitReq("kept", "", -1, commitOf{"t", 0, 1, 0, ""}))
	h.journal.setFail(kerr.NotCoordinator)
	req.Groups = []string{"kept"}
	wantCode(t, "delete with failing journal", h.c.DeleteGroups(context.Background(), req).Groups[0].ErrorCode, kerr.NotCoordinator)
	if _, _, ok := h.c.Committed("kept", "t", 0); !ok {
		t.Fatal("failed deletion dropped offsets")
	}
}

func decodeKeyVersion(key []byte) int16 { return int16(key[0])<<8 | int16(key[1]) }
