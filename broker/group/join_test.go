package group

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJoinRequiresMemberIDFromV4(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: -1})

	first := h.c.JoinGroup(clientCtx("app-1"), joinReq("g", "", "a"))
	wantCode(t, "first join", first.ErrorCode, kerr.MemberIDRequired)
	if !strings.HasPrefix(first.MemberID, "app-1-") || len(first.MemberID) != len("app-1-")+36 {
		t.Fatalf("member id %q is not clientID-uuid", first.MemberID)
	}
	if first.Generation != -1 {
		t.Fatalf("generation %d in MEMBER_ID_REQUIRED answer, want -1", first.Generation)
	}
	if s := h.state("g"); s != "Empty" {
		t.Fatalf("a pending member must not start a rebalance; group is %s", s)
	}

	second := h.c.JoinGroup(clientCtx("app-1"), joinReq("g", first.MemberID, "a"))
	wantCode(t, "second join", second.ErrorCode, nil)
	if second.MemberID != first.MemberID || second.LeaderID != first.MemberID {
		t.Fatalf("member %q leader %q, want both %q", second.MemberID, second.LeaderID, first.MemberID)
	}
	if second.Generation != 1 || *second.Protocol != "range" || *second.ProtocolType != "consumer" {
		t.Fatalf("generation %d protocol %q type %q", second.Generation, *second.Protocol, *second.ProtocolType)
	}
	if len(second.Members) != 1 || string(second.Members[0].ProtocolMetadata) != "a:range" {
		t.Fatalf("leader got members %+v", second.Members)
	}
}

func TestJoinBeforeV4NeedsNoMemberID(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: -1})
	req := joinReq("g", "", "a")
	req.Version = 3
	resp := h.c.JoinGroup(clientCtx("old"), req)
	wantCode(t, "v3 join", resp.ErrorCode, nil)
	if !strings.HasPrefix(resp.MemberID, "old-") || resp.Generation != 1 {
		t.Fatalf("member %q generation %d", resp.MemberID, resp.Generation)
	}
	if resp.ProtocolType != nil {
		t.Fatalf("v3 answer has ProtocolType, a v7+ field")
	}
}

func TestPendingMemberIDExpires(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: -1})
	id := h.memberID("g", "c")
	h.clock.Advance(testSession)
	resp := h.c.JoinGroup(clientCtx("c"), joinReq("g", id, "c"))
	wantCode(t, "join with expired pending id", resp.ErrorCode, kerr.UnknownMemberID)
}

func TestThreeMembersJoinAndSync(t *testing.T) {
	h := newHarness(t, Config{})
	clients := []string{"a", "b", "c"}
	ids := make([]string, 3)
	joins := make([]<-chan *kmsg.JoinGroupResponse, 3)
	for i, cl := range clients {
		ids[i] = h.memberID("g", cl)
		joins[i] = h.joinAsync(cl, joinReq("g", ids[i], cl))
		h.waitAwaitingJoin("g", i+1)
	}

	// The initial delay is extended because members arrived during it.
	h.clock.Advance(testDelay)
	notDone(t, joins[0], "JoinGroup during the extended initial delay")
	h.clock.Advance(testDelay)

	resps := make([]*kmsg.JoinGroupResponse, 3)
	for i := range joins {
		resps[i] = recvJoin(t, joins[i])
		wantCode(t, "join "+clients[i], resps[i].ErrorCode, nil)
		if resps[i].Generation != 1 || resps[i].LeaderID != ids[0] || resps[i].MemberID != ids[i] {
			t.Fatalf("member %d: generation %d leader %q member %q", i, resps[i].Generation, resps[i].LeaderID, resps[i].MemberID)
		}
	}
	if len(resps[0].Members) != 3 {
		t.Fatalf("leader got %d members, want 3", len(resps[0].Members))
	}
	for i, m := range resps[0].Members {
		if m.MemberID != ids[i] || string(m.ProtocolMetadata) != clients[i]+":range" {
			t.Fatalf("leader's member %d: %q with %q", i, m.MemberID, m.ProtocolMetadata)
		}
	}
	for i := 1; i < 3; i++ {
		if len(resps[i].Members) != 0 {
			t.Fatalf("follower %d got member metadata", i)
		}
	}

	follower1 := h.syncAsync(syncReq("g", ids[1], 1, nil))
	follower2 := h.syncAsync(syncReq("g", ids[2], 1, nil))
	h.waitAwaitingSync("g", 2)
	notDone(t, follower1, "follower SyncGroup before the leader's")

	// The leader leaves out member c: Kafka gives it an empty assignment.
	leader := h.c.SyncGroup(context.Background(), syncReq("g", ids[0], 1, map[string]string{
		ids[0]: "p0", ids[1]: "p1", "stranger": "p9",
	}))
	wantCode(t, "leader sync", leader.ErrorCode, nil)
	if string(leader.MemberAssignment) != "p0" || *leader.Protocol != "range" {
		t.Fatalf("leader assignment %q protocol %q", leader.MemberAssignment, *leader.Protocol)
	}
	if r := recvSync(t, follower1); r.ErrorCode != 0 || string(r.MemberAssignment) != "p1" {
		t.Fatalf("follower 1: %v %q", kerr.ErrorForCode(r.ErrorCode), r.MemberAssignment)
	}
	if r := recvSync(t, follower2); r.ErrorCode != 0 || len(r.MemberAssignment) != 0 || r.MemberAssignment == nil {
		t.Fatalf("follower 2: %v %q", kerr.ErrorForCode(r.ErrorCode), r.MemberAssignment)
	}
	if s := h.state("g"); s != "Stable" {
		t.Fatalf("group is %s, want Stable", s)
	}

	// A stable member syncing again gets its assignment back.
	again := h.c.SyncGroup(context.Background(), syncReq("g", ids[1], 1, nil))
	if again.ErrorCode != 0 || string(again.MemberAssignment) != "p1" {
		t.Fatalf("resync: %v %q", kerr.ErrorForCode(again.ErrorCode), again.MemberAssignment)
	}

	// The assignment was journaled as Kafka group metadata.
	recs := h.journal.all()
	v := decodeGroupValue(t, recs[len(recs)-1])
	if v.Generation != 1 || *v.Leader != ids[0] || len(v.Members) != 3 || string(v.Members[1].Assignment) != "p1" {
		t.Fatalf("journaled metadata %+v", v)
	}
	if v.Members[0].ClientID != "a" || v.Members[0].ClientHost != "/127.0.0.1" {
		t.Fatalf("journaled client %q host %q", v.Members[0].ClientID, v.Members[0].ClientHost)
	}
}

func decodeGroupValue(t *testing.T, rec JournalRecord) kmsg.GroupMetadataValue {
	t.Helper()
	k := kmsg.NewGroupMetadataKey()
	if err := k.ReadFrom(rec.Key); err != nil || k.Version != 2 {
		t.Fatalf("not a group metadata key (version %d): %v", k.Version, err)
	}
	v := kmsg.NewGroupMetadataValue()
	if err := v.ReadFrom(rec.Value); err != nil {
		t.Fatalf("group metadata value: %v", err)
	}
	return v
}

func TestProtocolSelectionByVotes(t *testing.T) {
	h := newHarness(t, Config{})
	prefs := [][]string{
		{"range", "roundrobin"},
		{"roundrobin", "range", "sticky"},
		{"sticky", "roundrobin", "range"},
	}
	var joins []<-chan *kmsg.JoinGroupResponse
	for i, p := range prefs {
		id := h.memberID("g", "c")
		joins = append(joins, h.joinAsync("c", joinReq("g", id, "m", p...)))
		h.waitAwaitingJoin("g", i+1)
	}
	h.clock.Advance(2 * testDelay)
	// sticky is not supported by all; of range and roundrobin, member 0
	// votes range, members 1 and 2 vote roundrobin.
	for _, j := range joins {
		if r := recvJoin(t, j); r.ErrorCode != 0 || *r.Protocol != "roundrobin" {
			t.Fatalf("protocol %q (%v), want roundrobin", *r.Protocol, kerr.ErrorForCode(r.ErrorCode))
		}
	}
}

func TestJoinProtocolMismatches(t *testing.T) {
	h := newHarness(t, Config{})
	stableGroup(h, "g", "a")

	other := joinReq("g", "", "x", "range")
	other.ProtocolType = "connect"
	wantCode(t, "other protocol type", h.c.JoinGroup(clientCtx("x"), other).ErrorCode, kerr.InconsistentGroupProtocol)

	wantCode(t, "no common protocol",
		h.c.JoinGroup(clientCtx("x"), joinReq("g", "", "x", "sticky")).ErrorCode, kerr.InconsistentGroupProtocol)

	empty := joinReq("new", "", "x")
	empty.ProtocolType = ""
	wantCode(t, "empty protocol type", h.c.JoinGroup(clientCtx("x"), empty).ErrorCode, kerr.InconsistentGroupProtocol)
	if s := h.state("new"); s != "absent" {
		t.Fatalf("a refused join left group %q behind (%s)", "new", s)
	}
}

func TestJoinValidation(t *testing.T) {
	h := newHarness(t, Config{})
	short := joinReq("g", "", "a")
	short.SessionTimeoutMillis = 1000
	wantCode(t, "short session", h.c.JoinGroup(clientCtx("a"), short).ErrorCode, kerr.InvalidSessionTimeout)
	wantCode(t, "empty group id", h.c.JoinGroup(clientCtx("a"), joinReq("", "", "a")).ErrorCode, kerr.InvalidGroupID)
	wantCode(t, "unknown member of unknown group",
		h.c.JoinGroup(clientCtx("a"), joinReq("g", "nobody", "a")).ErrorCode, kerr.UnknownMemberID)
}

func TestMaxGroupSize(t *testing.T) {
	h := newHarness(t, Config{MaxGroupSize: 2})
	stableGroup(h, "g", "a", "b")
	wantCode(t, "third member", h.c.JoinGroup(clientCtx("c"), joinReq("g", "", "c")).ErrorCode, kerr.GroupMaxSizeReached)

	// While the group rebalances, the members that rejoin first fill it.
	h2 := newHarness(t, Config{MaxGroupSize: 1})
	first := h2.memberID("g", "a")
	second := h2.memberID("g", "b")
	join := h2.joinAsync("a", joinReq("g", first, "a"))
	h2.waitAwaitingJoin("g", 1)
	wantCode(t, "second member of a full rebalance",
		h2.c.JoinGroup(clientCtx("b"), joinReq("g", second, "b")).ErrorCode, kerr.GroupMaxSizeReached)
	h2.clock.Advance(testDelay)
	wantCode(t, "first member", recvJoin(t, join).ErrorCode, nil)
}

func TestJoinCanceledByContext(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.memberID("g", "a")
	ctx, cancel := context.WithCancel(clientCtx("a"))
	done := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { done <- h.c.JoinGroup(ctx, joinReq("g", id, "a")) }()
	h.waitAwaitingJoin("g", 1)
	cancel()
	wantCode(t, "canceled join", recvJoin(t, done).ErrorCode, kerr.RebalanceInProgress)
}

func TestStaticMemberRestartKeepsAssignment(t *testing.T) {
	h := newHarness(t, Config{})
	instance := "pod-0"
	req := joinReq("g", "", "s")
	req.InstanceID = &instance
	// Static members skip MEMBER_ID_REQUIRED.
	join := h.joinAsync("s", req)
	h.waitAwaitingJoin("g", 1)
	h.clock.Advance(testDelay)
	first := recvJoin(t, join)
	wantCode(t, "static join", first.ErrorCode, nil)
	if !strings.HasPrefix(first.MemberID, instance+"-") {
		t.Fatalf("static member id %q does not start with the instance id", first.MemberID)
	}
	wantCode(t, "static sync", h.c.SyncGroup(context.Background(),
		syncReq("g", first.MemberID, 1, map[string]string{first.MemberID: "mine"})).ErrorCode, nil)

	// The process restarts and joins again without its member id.
	restarted := h.c.JoinGroup(clientCtx("s"), req)
	wantCode(t, "static rejoin", restarted.ErrorCode, nil)
	if restarted.MemberID == first.MemberID || restarted.Generation != 1 || !restarted.SkipAssignment {
		t.Fatalf("rejoin: member %q generation %d skip %v", restarted.MemberID, restarted.Generation, restarted.SkipAssignment)
	}
	if s := h.state("g"); s != "Stable" {
		t.Fatalf("static restart caused a rebalance: %s", s)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version, hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = 4, "g", first.MemberID, 1, &instance
	wantCode(t, "old incarnation heartbeat", h.c.Heartbeat(context.Background(), hb).ErrorCode, kerr.FencedInstanceID)

	sync := h.c.SyncGroup(context.Background(), syncReq("g", restarted.MemberID, 1, nil))
	if sync.ErrorCode != 0 || string(sync.MemberAssignment) != "mine" {
		t.Fatalf("new incarnation sync: %v %q", kerr.ErrorForCode(sync.ErrorCode), sync.MemberAssignment)
	}

	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version, leave.Group = 4, "g"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.InstanceID = &instance
	leave.Members = []kmsg.LeaveGroupRequestMember{lm}
	resp := h.c.LeaveGroup(context.Background(), leave)
	if resp.ErrorCode != 0 || len(resp.Members) != 1 || resp.Members[0].ErrorCode != 0 {
		t.Fatalf("static leave: %+v", resp)
	}
	if s := h.state("g"); s != "Empty" {
		t.Fatalf("after the only member left the group is %s", s)
	}
}

func TestInitialDelayCappedByRebalanceTimeout(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	var joins []<-chan *kmsg.JoinGroupResponse
	req := func(id string) *kmsg.JoinGroupRequest {
		r := joinReq("g", id, "m")
		r.RebalanceTimeoutMillis = 7000
		return r
	}
	joins = append(joins, h.joinAsync("m", req(h.memberID("g", "m"))))
	h.waitAwaitingJoin("g", 1)
	// A member arriving in every delay window would extend it forever
	// without the cap: 3s + 3s + 1s (the rest of the 7s timeout).
	for i := 2; i <= 3; i++ {
		h.clock.Advance(time.Second)
		joins = append(joins, h.joinAsync("m", req(h.memberID("g", "m"))))
		h.waitAwaitingJoin("g", i)
		h.clock.Advance(2 * time.Second)
	}
	notDone(t, joins[0], "join at 6s")
	h.clock.Advance(time.Second)
	for _, j := range joins {
		if r := recvJoin(t, j); r.ErrorCode != 0 || r.Generation != 1 {
			t.Fatalf("join: %v generation %d", kerr.ErrorForCode(r.ErrorCode), r.Generation)
		}
	}
}
