package group

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func leaveReq(group string, version int16, memberIDs ...string) *kmsg.LeaveGroupRequest {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = version
	req.Group = group
	if version < 3 {
		req.MemberID = memberIDs[0]
		return req
	}
	for _, id := range memberIDs {
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = id
		req.Members = append(req.Members, m)
	}
	return req
}

func TestLeaveTriggersRebalance(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "g", "a", "b", "c")

	resp := h.c.LeaveGroup(context.Background(), leaveReq("g", 1, ids[1]))
	wantCode(t, "leave", resp.ErrorCode, nil)
	if s := h.state("g"); s != "PreparingRebalance" {
		t.Fatalf("after a leave the group is %s", s)
	}
	wantCode(t, "heartbeat during rebalance", heartbeat(h, "g", ids[0], gen), kerr.RebalanceInProgress)
	wantCode(t, "heartbeat of the leaver", heartbeat(h, "g", ids[1], gen), kerr.UnknownMemberID)

	// The rebalance completes as soon as the remaining two have rejoined,
	// without waiting for the rebalance timeout.
	a := h.joinAsync("a", joinReq("g", ids[0], "a"))
	h.waitAwaitingJoin("g", 1)
	notDone(t, a, "join before everybody rejoined")
	c := h.c.JoinGroup(clientCtx("c"), joinReq("g", ids[2], "c"))
	ra := recvJoin(t, a)
	for _, r := range []*kmsg.JoinGroupResponse{ra, c} {
		wantCode(t, "rejoin", r.ErrorCode, nil)
		if r.Generation != gen+1 || r.LeaderID != ids[0] {
			t.Fatalf("rejoin: generation %d leader %q", r.Generation, r.LeaderID)
		}
	}
	if len(ra.Members) != 2 {
		t.Fatalf("leader sees %d members after the leave, want 2", len(ra.Members))
	}
	wantCode(t, "stale generation heartbeat", heartbeat(h, "g", ids[2], gen), kerr.IllegalGeneration)
	wantCode(t, "new generation heartbeat", heartbeat(h, "g", ids[2], gen+1), nil)
}

func TestLeaveBatchV3(t *testing.T) {
	h := newHarness(t, Config{})
	ids, _ := stableGroup(h, "g", "a", "b")
	resp := h.c.LeaveGroup(context.Background(), leaveReq("g", 3, ids[0], "ghost", ids[1]))
	wantCode(t, "batch leave", resp.ErrorCode, nil)
	want := []*kerr.Error{nil, kerr.UnknownMemberID, nil}
	for i, m := range resp.Members {
		wantCode(t, "leave of "+m.MemberID, m.ErrorCode, want[i])
	}
	// With nobody left the rebalance ends at once in an empty generation,
	// which is journaled.
	if s := h.state("g"); s != "Empty" {
		t.Fatalf("group is %s", s)
	}
	recs := h.journal.all()
	v := decodeGroupValue(t, recs[len(recs)-1])
	if v.Generation != 2 || len(v.Members) != 0 || v.Protocol != nil || v.ProtocolType != "consumer" {
		t.Fatalf("journaled empty group: %+v", v)
	}
	wantCode(t, "leave of unknown group",
		h.c.LeaveGroup(context.Background(), leaveReq("nope", 1, "x")).ErrorCode, kerr.UnknownMemberID)
}

func TestSessionTimeoutRemovesSilentMember(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "g", "a", "b")

	// Only a heartbeats; b's session ends 10s after its SyncGroup.
	for range 3 {
		h.clock.Advance(3 * time.Second)
		wantCode(t, "a heartbeat", heartbeat(h, "g", ids[0], gen), nil)
	}
	h.clock.Advance(3 * time.Second)
	wantCode(t, "a heartbeat after b expired", heartbeat(h, "g", ids[0], gen), kerr.RebalanceInProgress)
	wantCode(t, "b heartbeat", heartbeat(h, "g", ids[1], gen), kerr.UnknownMemberID)

	r := h.c.JoinGroup(clientCtx("a"), joinReq("g", ids[0], "a"))
	wantCode(t, "rejoin", r.ErrorCode, nil)
	if r.Generation != gen+1 || len(r.Members) != 1 || r.Members[0].MemberID != ids[0] {
		t.Fatalf("generation %d members %+v", r.Generation, r.Members)
	}
}

func TestRebalanceTimeoutRemovesMemberThatDoesNotRejoin(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "g", "a", "b")

	// a changes its subscription, which needs a rebalance.
	a := h.joinAsync("a", joinReq("g", ids[0], "a-v2"))
	h.waitAwaitingJoin("g", 1)
	// b keeps heartbeating but ignores REBALANCE_IN_PROGRESS.
	for elapsed := time.Duration(0); elapsed < testRebalance-5*time.Second; elapsed += 5 * time.Second {
		h.clock.Advance(5 * time.Second)
		wantCode(t, "b heartbeat", heartbeat(h, "g", ids[1], gen), kerr.RebalanceInProgress)
	}
	notDone(t, a, "join before the rebalance timeout")
	h.clock.Advance(5 * time.Second)

	r := recvJoin(t, a)
	wantCode(t, "join after timeout", r.ErrorCode, nil)
	if r.Generation != gen+1 || len(r.Members) != 1 || string(r.Members[0].ProtocolMetadata) != "a-v2:range" {
		t.Fatalf("generation %d members %+v", r.Generation, r.Members)
	}
	wantCode(t, "b after removal", heartbeat(h, "g", ids[1], gen), kerr.UnknownMemberID)
}

func TestMemberThatNeverSyncsIsRemoved(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.memberID("g", "a"), h.memberID("g", "b")
	ja := h.joinAsync("a", joinReq("g", a, "a"))
	h.waitAwaitingJoin("g", 1)
	jb := h.joinAsync("b", joinReq("g", b, "b"))
	h.waitAwaitingJoin("g", 2)
	h.clock.Advance(2 * testDelay)
	recvJoin(t, ja)
	gen := recvJoin(t, jb).Generation

	// The follower syncs; the leader never does (its assignor is stuck) but
	// both keep heartbeating, so only the sync deadline can catch it.
	follower := h.syncAsync(syncReq("g", b, gen, nil))
	h.waitAwaitingSync("g", 1)
	for elapsed := time.Duration(0); elapsed < testRebalance; elapsed += 5 * time.Second {
		wantCode(t, "follower heartbeat while awaiting sync", heartbeat(h, "g", b, gen), nil)
		wantCode(t, "leader heartbeat before syncing", heartbeat(h, "g", a, gen), nil)
		h.clock.Advance(5 * time.Second)
	}

	wantCode(t, "follower sync after the leader vanished", recvSync(t, follower).ErrorCode, kerr.RebalanceInProgress)
	wantCode(t, "leader heartbeat", heartbeat(h, "g", a, gen), kerr.UnknownMemberID)
	r := h.c.JoinGroup(clientCtx("b"), joinReq("g", b, "b"))
	if r.ErrorCode != 0 || r.LeaderID != b || r.Generation != gen+1 {
		t.Fatalf("rejoin: %v leader %q generation %d", kerr.ErrorForCode(r.ErrorCode), r.LeaderID, r.Generation)
	}
}

func TestSyncGroupErrors(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "g", "a", "b")

	wantCode(t, "wrong generation", h.c.SyncGroup(context.Background(), syncReq("g", ids[0], gen+1, nil)).ErrorCode, kerr.IllegalGeneration)
	wantCode(t, "unknown member", h.c.SyncGroup(context.Background(), syncReq("g", "who", gen, nil)).ErrorCode, kerr.UnknownMemberID)
	wantCode(t, "unknown group", h.c.SyncGroup(context.Background(), syncReq("h", ids[0], gen, nil)).ErrorCode, kerr.UnknownMemberID)
	wrong := syncReq("g", ids[0], gen, nil)
	p := "roundrobin"
	wrong.Protocol = &p
	wantCode(t, "v5 protocol mismatch", h.c.SyncGroup(context.Background(), wrong).ErrorCode, kerr.InconsistentGroupProtocol)
	wrong.Version = 4
	wantCode(t, "v4 ignores protocol name", h.c.SyncGroup(context.Background(), wrong).ErrorCode, nil)

	rejoin := h.joinAsync("b", joinReq("g", ids[1], "b-changed"))
	h.waitAwaitingJoin("g", 1)
	wantCode(t, "sync during rebalance", h.c.SyncGroup(context.Background(), syncReq("g", ids[0], gen, nil)).ErrorCode, kerr.RebalanceInProgress)
	h.c.JoinGroup(clientCtx("a"), joinReq("g", ids[0], "a"))
	recvJoin(t, rejoin)

	// A follower waiting in SyncGroup is told to rejoin when a member
	// leaves before the leader syncs.
	waiting := h.syncAsync(syncReq("g", ids[1], gen+1, nil))
	h.waitAwaitingSync("g", 1)
	h.c.LeaveGroup(context.Background(), leaveReq("g", 1, ids[0]))
	wantCode(t, "waiting follower", recvSync(t, waiting).ErrorCode, kerr.RebalanceInProgress)
}

func TestJournalFailureOnLeaderSync(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := h.memberID("g", "a"), h.memberID("g", "b")
	ja := h.joinAsync("a", joinReq("g", a, "a"))
	h.waitAwaitingJoin("g", 1)
	jb := h.joinAsync("b", joinReq("g", b, "b"))
	h.waitAwaitingJoin("g", 2)
	h.clock.Advance(2 * testDelay)
	recvJoin(t, ja)
	gen := recvJoin(t, jb).Generation

	follower := h.syncAsync(syncReq("g", b, gen, nil))
	h.waitAwaitingSync("g", 1)
	h.journal.setFail(kerr.NotCoordinator)
	leader := h.c.SyncGroup(context.Background(), syncReq("g", a, gen, map[string]string{a: "x", b: "y"}))
	wantCode(t, "leader sync", leader.ErrorCode, kerr.NotCoordinator)
	wantCode(t, "follower sync", recvSync(t, follower).ErrorCode, kerr.NotCoordinator)
	if s := h.state("g"); s != "PreparingRebalance" {
		t.Fatalf("group is %s after a failed assignment", s)
	}
}

func TestCloseAnswersWaiters(t *testing.T) {
	h := newHarness(t, Config{})
	j := h.joinAsync("a", joinReq("g", h.memberID("g", "a"), "a"))
	h.waitAwaitingJoin("g", 1)
	h.c.Close()
	wantCode(t, "join at close", recvJoin(t, j).ErrorCode, kerr.CoordinatorNotAvailable)
	wantCode(t, "heartbeat after close", heartbeat(h, "g", "x", 1), kerr.CoordinatorNotAvailable)
	h.clock.Advance(time.Hour) // timers are stopped; nothing may fire
}
