package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeClock runs timers only when a test advances it; callbacks run on the
// advancing goroutine, in deadline order.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clock *fakeClock
	at    time.Time
	f     func()
	done  bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.done
	t.done = true
	return was
}

// Advance moves time forward by d, firing every timer that falls due,
// including timers that fired callbacks schedule within the window.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool { return t.done })
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.at.After(target) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = target
			c.mu.Unlock()
			return
		}
		if next.at.After(c.now) {
			c.now = next.at
		}
		next.done = true
		c.mu.Unlock()
		next.f()
	}
}

// memJournal keeps appended records in memory and fails on demand.
type memJournal struct {
	mu      sync.Mutex
	records []JournalRecord
	fail    error
}

func (j *memJournal) Append(ctx context.Context, records []JournalRecord) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	j.records = append(j.records, records...)
	return nil
}

func (j *memJournal) setFail(err error) {
	j.mu.Lock()
	j.fail = err
	j.mu.Unlock()
}

func (j *memJournal) all() []JournalRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.records)
}

type harness struct {
	t       *testing.T
	c       *Coordinator
	clock   *fakeClock
	journal *memJournal
}

// testLogger prints coordinator logs with -v only, keeping failures readable.
func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newHarness returns a coordinator on a fake clock; its initial rebalance
// delay is testDelay unless cfg sets one.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), journal: &memJournal{}}
	cfg.Clock = h.clock
	cfg.Logger = testLogger()
	if cfg.InitialRebalanceDelay == 0 {
		cfg.InitialRebalanceDelay = testDelay
	}
	c, err := NewCoordinator(cfg, h.journal)
	if err != nil {
		t.Fatalf("NewCoordinator: %v", err)
	}
	t.Cleanup(c.Close)
	h.c = c
	return h
}

const (
	testSession   = 10 * time.Second
	testRebalance = 30 * time.Second
	testDelay     = 3 * time.Second
)

// joinReq is a v9 JoinGroup of a "consumer" member offering protocols in
// order of preference; each protocol's metadata is its name prefixed with
// the member's tag, so tests can see whose metadata travelled where.
func joinReq(group, memberID, tag string, protocols ...string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 9
	req.Group = group
	req.MemberID = memberID
	req.SessionTimeoutMillis = int32(testSession / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(testRebalance / time.Millisecond)
	req.ProtocolType = "consumer"
	if len(protocols) == 0 {
		protocols = []string{"range"}
	}
	for _, p := range protocols {
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name = p
		jp.Metadata = []byte(tag + ":" + p)
		req.Protocols = append(req.Protocols, jp)
	}
	return req
}

func clientCtx(id string) context.Context {
	return WithClientInfo(context.Background(), ClientInfo{ID: id, Host: "/127.0.0.1"})
}

// joinAsync sends a JoinGroup that may block and returns where its answer
// will arrive.
func (h *harness) joinAsync(client string, req *kmsg.JoinGroupRequest) <-chan *kmsg.JoinGroupResponse {
	out := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { out <- h.c.JoinGroup(clientCtx(client), req) }()
	return out
}

func (h *harness) syncAsync(req *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	out := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { out <- h.c.SyncGroup(context.Background(), req) }()
	return out
}

// memberID performs the first step of a v4+ join and returns the id the
// coordinator handed out.
func (h *harness) memberID(group, clientID string) string {
	h.t.Helper()
	resp := h.c.JoinGroup(clientCtx(clientID), joinReq(group, "", clientID))
	if err := kerr.ErrorForCode(resp.ErrorCode); !errors.Is(err, kerr.MemberIDRequired) {
		h.t.Fatalf("first join of %s: got %v, want MEMBER_ID_REQUIRED", clientID, err)
	}
	return resp.MemberID
}

// waitFor polls cond; the coordinator's progress depends on goroutines the
// test started, not on time, so this only waits for them to be scheduled.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) inspect(name string, f func(g *group)) {
	g := h.c.lockGroup(name, false)
	if g == nil {
		f(nil)
		return
	}
	defer g.mu.Unlock()
	f(g)
}

func (h *harness) waitAwaitingJoin(name string, n int) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%d members awaiting join in %s", n, name), func() bool {
		got := -1
		h.inspect(name, func(g *group) {
			if g != nil {
				got = g.numAwaitingJoin()
			}
		})
		return got == n
	})
}

func (h *harness) waitAwaitingSync(name string, n int) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("%d members awaiting sync in %s", n, name), func() bool {
		got := 0
		h.inspect(name, func(g *group) {
			for _, m := range g.members {
				if m.awaitingSync() {
					got++
				}
			}
		})
		return got == n
	})
}

func (h *harness) state(name string) string {
	s := "absent"
	h.inspect(name, func(g *group) {
		if g != nil {
			s = g.state.String()
		}
	})
	return s
}

func recvJoin(t *testing.T, ch <-chan *kmsg.JoinGroupResponse) *kmsg.JoinGroupResponse {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("JoinGroup did not return")
		return nil
	}
}

func recvSync(t *testing.T, ch <-chan *kmsg.SyncGroupResponse) *kmsg.SyncGroupResponse {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("SyncGroup did not return")
		return nil
	}
}

func notDone[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s returned early", what)
	case <-time.After(5 * time.Millisecond):
	}
}

func wantCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	wantCode := int16(0)
	if want != nil {
		wantCode = want.Code
	}
	if got != wantCode {
		t.Fatalf("%s: got error %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(wantCode))
	}
}

func syncReq(group, memberID string, generation int32, assignments map[string]string) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group = group
	req.MemberID = memberID
	req.Generation = generation
	pt, p := "consumer", "range"
	req.ProtocolType, req.Protocol = &pt, &p
	for id, a := range assignments {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID = id
		ga.MemberAssignment = []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return req
}

func heartbeat(h *harness, group, memberID string, generation int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group = group
	req.MemberID = memberID
	req.Generation = generation
	return h.c.Heartbeat(context.Background(), req).ErrorCode
}

// stableGroup forms a stable group of the given clients in one generation
// (with an initial delay long enough to gather them) and returns their
// member ids in join order, the leader first, and the generation. Each
// member is assigned "assign-<client>".
func stableGroup(h *harness, group string, clients ...string) ([]string, int32) {
	h.t.Helper()
	ids := make([]string, len(clients))
	joins := make([]<-chan *kmsg.JoinGroupResponse, len(clients))
	for i, cl := range clients {
		ids[i] = h.memberID(group, cl)
		joins[i] = h.joinAsync(cl, joinReq(group, ids[i], cl))
		h.waitAwaitingJoin(group, i+1)
	}
	// The first delay sees newcomers and is extended once.
	h.clock.Advance(2 * testDelay)
	assign := make(map[string]string)
	var gen int32
	for i := range clients {
		resp := recvJoin(h.t, joins[i])
		wantCode(h.t, "join "+clients[i], resp.ErrorCode, nil)
		gen = resp.Generation
		assign[ids[i]] = "assign-" + clients[i]
	}
	syncs := make([]<-chan *kmsg.SyncGroupResponse, len(clients))
	for i := len(clients) - 1; i >= 1; i-- {
		syncs[i] = h.syncAsync(syncReq(group, ids[i], gen, nil))
	}
	h.waitAwaitingSync(group, len(clients)-1)
	leader := h.c.SyncGroup(context.Background(), syncReq(group, ids[0], gen, assign))
	wantCode(h.t, "leader sync", leader.ErrorCode, nil)
	for i := 1; i < len(clients); i++ {
		wantCode(h.t, "follower sync", recvSync(h.t, syncs[i]).ErrorCode, nil)
	}
	if s := h.state(group); s != "Stable" {
		h.t.Fatalf("group %s is %s after sync, want Stable", group, s)
	}
	return ids, gen
}
