package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

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
		// Instances leave the group when they stop, so no test waits for a
		// session to expire; a short one would only let a heartbeat held
		// up by a loaded machine rebalance the group under a check.
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 50 * time.Millisecond, RebalanceTimeout: 10 * time.Second,
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
