package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/stream"
)

// syncBuffer collects an instance's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGroupFencedInstanceDropsItsTasks: the coordinator removes an
// instance from the group (as when it stalls past its session timeout)
// while input keeps coming. Until it learns of it, it must not flush what
// it processes — the other instance runs its tasks already and would
// count those records again — and then it drops its tasks uncommitted,
// rejoins and takes its share again; counts stay exact.
func TestGroupFencedInstanceDropsItsTasks(t *testing.T) {
	b := openGroupBroker(t)
	truth := map[string]int64{}
	produce(t, b, 0, 200, truth)
	var logs syncBuffer
	// a heartbeats seldom: it goes on processing for a while after its
	// removal, unaware, as a stalled instance would when it wakes up.
	a := startInstance(t, b, "a", t.TempDir(), 0, func(c *stream.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c.HeartbeatInterval, c.SessionTimeout = 700*time.Millisecond, 6*time.Second
	})
	bi := startInstance(t, b, "b", t.TempDir(), 0)
	before := settled(t, a, bi)
	caughtUp(t, b)
	checkCounts(t, truth, a, bi)

	// Remove a's member, as an administrator (or an expired session) would.
	admin := b.GroupRequestor("admin")
	desc := kmsg.NewPtrDescribeGroupsRequest()
	desc.Groups = []string{"grouped"}
	dresp, err := desc.RequestWith(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	aID, _ := a.app.Internal().Assignment()
	var memberID string
	for _, m := range dresp.Groups[0].Members {
		if strings.HasSuffix(m.ClientID, aID.ProcessID) {
			memberID = m.MemberID
		}
	}
	if memberID == "" {
		t.Fatalf("a (process %s) is not among the group's members", aID.ProcessID)
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version = 5
	leave.Group = "grouped"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = memberID
	leave.Members = append(leave.Members, lm)
	lresp, err := leave.RequestWith(context.Background(), admin)
	if err != nil || lresp.ErrorCode != 0 {
		t.Fatalf("remove a: %v (code %d)", err, lresp.ErrorCode)
	}
	produce(t, b, 1, 200, truth)
	deadline := time.Now().Add(20 * time.Second)
	for {
		after := settled(t, a, bi)
		if after.Generation > before.Generation {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a did not come back: generation %d (was %d)", after.Generation, before.Generation)
		}
		time.Sleep(20 * time.Millisecond)
	}
	caughtUp(t, b)
	checkCounts(t, truth, a, bi)
	if !strings.Contains(logs.String(), "generation ended without it") {
		t.Fatalf("a did not notice it was fenced; its log:\n%s", logs.String())
	}
}
