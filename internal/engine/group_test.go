package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// These tests run several instances of one app in this process, on the
// embedded broker's SharedEmbedded client: each instance is an engine in
// the app's consumer group. Package internal/scaleout runs instances as
// separate processes over the Kafka protocol, and kills them.

const (
	groupParts = 6
	groupKeys  = 300
)

type instance struct {
	name   string
	app    *stream.App
	counts table.Table[string, int64]
	stop   context.CancelFunc
	done   chan error
}

func openGroupBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Groups: group.Config{InitialRebalanceDelay: -1, MinSessionTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Embedded().CreateTopics(context.Background(), broker.TopicSpec{Name: "in", Partitions: groupParts}); err != nil {
		t.Fatal(err)
	}
	return b
}

// startInstance runs an instance of the counting app: it counts records
// per key.
func startInstance(t *testing.T, b *broker.Broker, name, stateDir string, standbys int, opts ...func(*stream.Config)) *instance {
	t.Helper()
	sb := stream.NewBuilder("grouped")
	in := stream.From(sb, "in", serde.String, serde.String)
	counts := table.Count(in.GroupByKey(), table.Named("counts"))
	cfg := stream.Config{
		Client: b.SharedEmbedded(), StateDir: stateDir, CommitInterval: 30 * time.Millisecond,
		ApplicationServer: name + ":8080", StandbyReplicas: standbys,
		SessionTimeout: time.Second, HeartbeatInterval: 50 * time.Millisecond, RebalanceTimeout: 10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	app, err := stream.NewApp(sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst := &instance{name: name, app: app, counts: counts, stop: cancel, done: make(chan error, 1)}
	go func() { inst.done <- app.Run(ctx) }()
	t.Cleanup(func() { inst.halt(t) })
	return inst
}

// halt stops the instance (it commits and leaves the group).
func (i *instance) halt(t *testing.T) {
	if i.stop == nil {
		return
	}
	i.stop()
	i.stop = nil
	if err := <-i.done; err != nil {
		t.Errorf("instance %s: %v", i.name, err)
	}
}

// produce appends n records per partition, keys k0..k{groupKeys-1} on the
// partitions Kafka's partitioner gives them, and adds them to truth.
func produce(t *testing.T, b *broker.Broker, round, n int, truth map[string]int64) {
	t.Helper()
	builders := make([]*batch.Builder, groupParts)
	for p := range builders {
		builders[p] = batch.NewBuilder(batch.BuilderOptions{})
	}
	for i := range n * groupParts {
		key := fmt.Sprintf("k%d", (i*7+round)%groupKeys)
		p := partition.ForKey([]byte(key), groupParts)
		builders[p].Add(batch.Record{Key: []byte(key), Value: []byte("v"), Timestamp: int64(i)})
		truth[key]++
	}
	for p, bl := range builders {
		if bl.Len() == 0 {
			continue
		}
		data, err := bl.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Embedded().Append(context.Background(), "in", int32(p), data); err != nil {
			t.Fatal(err)
		}
	}
}

// settled waits until every instance has the same generation with one
// entry per instance and every task active exactly once, and returns it.
func settled(t *testing.T, insts ...*instance) engine.GroupAssignment {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var first engine.GroupAssignment
		ok := true
		for i, inst := range insts {
			a, has := inst.app.Internal().Assignment()
			if !has || (i > 0 && a.Generation != first.Generation) || len(a.Instances) != len(insts) {
				ok = false
				break
			}
			if i == 0 {
				first = a
			}
		}
		if ok {
			seen := map[topology.TaskID]bool{}
			for _, in := range first.Instances {
				for _, id := range in.Active {
					seen[id] = true
				}
			}
			if len(seen) == groupParts && allOpen(first, insts) {
				return first
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the instances did not settle on one assignment")
	return engine.GroupAssignment{}
}

// allOpen reports whether every instance has restored and started the
// tasks a gives it.
func allOpen(a engine.GroupAssignment, insts []*instance) bool {
	for _, inst := range insts {
		own, _ := inst.app.Internal().Assignment()
		info, err := inst.app.Internal().StoreInfo("counts")
		if err != nil {
			return false
		}
		for _, in := range a.Instances {
			if in.ProcessID != own.ProcessID {
				continue
			}
			for _, id := range in.Active {
				if _, ok := info.Restored[id.Partition]; !ok {
					return false
				}
			}
		}
	}
	return true
}

// caughtUp waits until the group's committed offsets reach the end of
// every input partition.
func caughtUp(t *testing.T, b *broker.Broker) {
	t.Helper()
	c := b.Embedded()
	ctx := context.Background()
	var tps []broker.TopicPartition
	for p := range int32(groupParts) {
		tps = append(tps, broker.TopicPartition{Topic: "in", Partition: p})
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		offs, err := c.CommittedOffsets(ctx, "grouped", tps)
		if err != nil {
			t.Fatal(err)
		}
		done := true
		for _, o := range offs {
			end, err := c.ListOffset(ctx, "in", o.Partition, broker.Latest)
			if err != nil {
				t.Fatal(err)
			}
			done = done && o.Offset == end
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the group did not catch up with its input")
}

// checkCounts looks every key up on the instance that owns it, checking
// that the others refuse with the owner's endpoint.
func checkCounts(t *testing.T, truth map[string]int64, insts ...*instance) {
	t.Helper()
	for key, want := range truth {
		found := 0
		for _, inst := range insts {
			got, ok, err := table.Lookup(inst.app, inst.counts, key)
			var nl *engine.NotLocalError
			switch {
			case err == nil:
				found++
				if !ok || got != want {
					t.Fatalf("%s: count of %s = %d (found %v), want %d", inst.name, key, got, ok, want)
				}
			case errors.As(err, &nl) && errors.Is(err, engine.ErrNotLocal):
				p := partition.ForKey([]byte(key), groupParts)
				owner, local, oerr := inst.app.Internal().StoreOwner("counts", p)
				if oerr != nil || local || owner.Endpoint != nl.Owner.Endpoint || nl.Owner.Endpoint == inst.name+":8080" {
					t.Fatalf("%s: key %s: not local, owner %+v; StoreOwner says %+v, %v, %v", inst.name, key, nl.Owner, owner, local, oerr)
				}
			default:
				t.Fatalf("%s: lookup %s: %v", inst.name, key, err)
			}
		}
		if found != 1 {
			t.Fatalf("key %s answered by %d instances", key, found)
		}
	}
}

// TestGroupSplitsTasks: three instances split six tasks two each; counts
// are exact; an instance that stops hands its tasks over (restored from
// the changelog, or promoted from a standby) without a count going wrong;
// a new instance takes its share.
func TestGroupSplitsTasks(t *testing.T) {
	b := openGroupBroker(t)
	truth := map[string]int64{}
	produce(t, b, 0, 400, truth)
	a := startInstance(t, b, "a", t.TempDir(), 1)
	select {
	case <-a.app.Ready():
	case err := <-a.done:
		t.Fatalf("a stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("a not ready")
	}
	alone := settled(t, a)
	if len(alone.Instances[0].Active) != groupParts || len(alone.Instances[0].Standby) != 0 {
		t.Fatalf("a alone: %+v", alone.Instances)
	}
	bi := startInstance(t, b, "b", t.TempDir(), 1)
	c := startInstance(t, b, "c", t.TempDir(), 1)
	three := settled(t, a, bi, c)
	for _, in := range three.Instances {
		if len(in.Active) != 2 || len(in.Standby) != 2 {
			t.Fatalf("three instances: %+v", three.Instances)
		}
		for _, id := range in.Standby {
			if slices.Contains(in.Active, id) {
				t.Fatalf("task %s active and standby on %s", id, in.Endpoint)
			}
		}
	}
	produce(t, b, 1, 300, truth)
	caughtUp(t, b)
	checkCounts(t, truth, a, bi, c)

	// b stops: a and c take its tasks, from their standbys where they
	// have one.
	var bTasks []topology.TaskID
	for _, in := range three.Instances {
		if in.Endpoint == "b:8080" {
			bTasks = in.Active
		}
	}
	bi.halt(t)
	two := settled(t, a, c)
	produce(t, b, 2, 300, truth)
	caughtUp(t, b)
	checkCounts(t, truth, a, c)
	tail := 0
	for _, inst := range []*instance{a, c} {
		info, err := inst.app.Internal().StoreInfo("counts")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range bTasks {
			if from, ok := info.RestoredFrom[id.Partition]; ok && from > 0 {
				tail++
				t.Logf("%s took task %s over from its standby: replayed %d changelog records from %d", inst.name, id, info.Restored[id.Partition], from)
			}
		}
	}
	if tail != len(bTasks) {
		t.Fatalf("%d of b's %d tasks restored from a standby's position (generation %d: %+v)", tail, len(bTasks), two.Generation, two.Instances)
	}

	// A new instance takes its share; counts stay exact.
	d := startInstance(t, b, "d", t.TempDir(), 1)
	three = settled(t, a, c, d)
	for _, in := range three.Instances {
		if len(in.Active) != 2 {
			t.Fatalf("after d joined: %+v", three.Instances)
		}
	}
	produce(t, b, 3, 300, truth)
	caughtUp(t, b)
	checkCounts(t, truth, a, c, d)
}

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

// TestGroupRepartitionedCounts: an app of two sub-topologies (re-keyed
// through a repartition topic, then counted) split over instances that
// come and go; the counts per new key stay exact.
func TestGroupRepartitionedCounts(t *testing.T) {
	b := openGroupBroker(t)
	start := func(name string) (*stream.App, table.Table[string, int64], chan error, context.CancelFunc) {
		sb := stream.NewBuilder("rekeyed")
		in := stream.From(sb, "in", serde.String, serde.String)
		// The key's last digit becomes the key: records of one new key
		// come from every input partition.
		byDigit := stream.GroupBy(in, func(k, _ string) string { return k[len(k)-1:] }, serde.String, stream.Named("by-digit"))
		counts := table.Count(byDigit, table.Named("digit-counts"))
		app, err := stream.NewApp(sb, stream.Config{
			Client: b.SharedEmbedded(), StateDir: t.TempDir(), CommitInterval: 30 * time.Millisecond, ApplicationServer: name + ":1",
			SessionTimeout: time.Second, HeartbeatInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- app.Run(ctx) }()
		return app, counts, done, cancel
	}
	truth := map[string]int64{}
	produce(t, b, 0, 200, truth)
	byDigit := func() map[string]int64 {
		out := map[string]int64{}
		for k, n := range truth {
			out[k[len(k)-1:]] += n
		}
		return out
	}
	// check waits until every digit's count, read from whichever instance
	// runs it, equals the input's.
	check := func(apps []*stream.App, counts table.Table[string, int64]) {
		t.Helper()
		want := byDigit()
		deadline := time.Now().Add(20 * time.Second)
		for {
			wrong := ""
			for digit, n := range want {
				answered := false
				for _, app := range apps {
					got, _, err := table.Lookup(app, counts, digit)
					if err != nil {
						continue // not here (or not yet restored)
					}
					answered = true
					if got != n {
						wrong = fmt.Sprintf("digit %s: %d, want %d", digit, got, n)
					}
				}
				if !answered {
					wrong = "digit " + digit + " answered nowhere"
				}
			}
			if wrong == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal(wrong)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a, counts, aDone, aStop := start("a")
	bApp, _, bDone, bStop := start("b")
	check([]*stream.App{a, bApp}, counts)
	produce(t, b, 1, 200, truth)
	check([]*stream.App{a, bApp}, counts)
	c, _, cDone, cStop := start("c")
	// Both sub-topologies are spread: 6 tasks each, 12 over 3 instances.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ga, _ := a.Internal().Assignment()
		balanced := len(ga.Instances) == 3
		for _, in := range ga.Instances {
			balanced = balanced && len(in.Active) == 4
		}
		if balanced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a sees %+v", ga.Instances)
		}
		time.Sleep(10 * time.Millisecond)
	}
	produce(t, b, 2, 200, truth)
	check([]*stream.App{a, bApp, c}, counts)
	aStop()
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	produce(t, b, 3, 200, truth)
	check([]*stream.App{bApp, c}, counts)
	for _, s := range []struct {
		stop context.CancelFunc
		done chan error
	}{{bStop, bDone}, {cStop, cDone}} {
		s.stop()
		if err := <-s.done; err != nil {
			t.Fatal(err)
		}
	}
}
