package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// These tests drive hand-built topologies (no DSL) to pin the Driver's own
// rules: routing, the order records sent to input topics are processed in,
// commits, punctuation, failures. Package streamtest tests it under every
// DSL operator.

// refusing is the engine's client in these tests: the driver must never
// reach a broker.
type refusing struct{}

var errRefused = errors.New("test client: no broker here")

func (refusing) CreateTopics(context.Context, ...broker.TopicSpec) error { return errRefused }
func (refusing) Partitions(_ context.Context, topic string) (int32, error) {
	return 0, fmt.Errorf("%w: partitions of %s", errRefused, topic)
}
func (refusing) Append(context.Context, string, int32, []byte) (int64, error) { return 0, errRefused }
func (refusing) Fetch(context.Context, string, int32, int64, int, time.Duration) (broker.FetchResult, error) {
	return broker.FetchResult{}, errRefused
}
func (refusing) ListOffset(context.Context, string, int32, int64) (int64, error) {
	return 0, errRefused
}
func (refusing) CommitOffsets(context.Context, string, []broker.TopicPartitionOffset) error {
	return errRefused
}
func (refusing) CommittedOffsets(context.Context, string, []broker.TopicPartition) ([]broker.TopicPartitionOffset, error) {
	return nil, errRefused
}
func (refusing) Close() error { return nil }

// source adds a source node reading topics whose records go to handle.
func source(t *testing.T, topo *topology.Topology, name string, topics []string, stores []string,
	handle func(tc topology.TaskContext) (topology.SourceFunc, error)) *topology.Node {
	t.Helper()
	n := &topology.Node{Name: name, Kind: topology.Source, Topics: topics, Stores: stores, Build: handle}
	if err := topo.Add(n); err != nil {
		t.Fatal(err)
	}
	return n
}

// sink declares an output topic below a node, as the DSL's sinks do.
func sink(t *testing.T, topo *topology.Topology, parent *topology.Node, topic string) {
	t.Helper()
	if err := topo.Add(&topology.Node{Name: "sink-" + topic, Kind: topology.Sink, Topics: []string{topic}}, parent); err != nil {
		t.Fatal(err)
	}
}

func newTestDriver(t *testing.T, topo *topology.Topology, cfg Config, dcfg DriverConfig) *Driver {
	t.Helper()
	cfg.AppID, cfg.Client, cfg.InMemoryStores = topo.Name, refusing{}, cfg.StateDir == ""
	e, err := New(topo, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDriver(e, dcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func keysOf(recs []topology.RawRecord) []string {
	var s []string
	for _, r := range recs {
		s = append(s, fmt.Sprintf("%s@%d/%d", r.Key, r.Partition, r.Offset))
	}
	return s
}

func TestDriverRoutesByKeyAndKeepsOffsetsPerPartition(t *testing.T) {
	topo := topology.New("route")
	var seen []string
	var tc0 []topology.TaskContext
	src := source(t, topo, "src", []string{"in"}, nil, func(tc topology.TaskContext) (topology.SourceFunc, error) {
		tc0 = append(tc0, tc)
		return func(r *topology.RawRecord) error {
			if got := tc.TaskID().Partition; got != r.Partition {
				return fmt.Errorf("record of partition %d in task %s", r.Partition, tc.TaskID())
			}
			seen = append(seen, fmt.Sprintf("%s@%d/%d", r.Key, r.Partition, r.Offset))
			return tc.Send("out", -1, r.Key, r.Value, r.Timestamp, nil)
		}, nil
	})
	sink(t, topo, src, "out")
	d := newTestDriver(t, topo, Config{}, DriverConfig{Partitions: map[string]int32{"in": 4, "out": 3}})
	if len(tc0) != 4 {
		t.Fatalf("%d tasks built, want 4", len(tc0))
	}
	var wantIn, wantOut []string
	inOff, outOff := map[int32]int{}, map[int32]int{}
	for i := range 50 {
		key := []byte(fmt.Sprint("key-", i%9))
		if i%7 == 0 {
			key = nil // keyless: partition 0
		}
		if err := d.Pipe("in", key, []byte("v"), int64(i), nil); err != nil {
			t.Fatal(err)
		}
		pin, pout := int32(0), int32(0)
		if key != nil {
			pin, pout = partition.ForKey(key, 4), partition.ForKey(key, 3)
		}
		wantIn = append(wantIn, fmt.Sprintf("%s@%d/%d", key, pin, inOff[pin]))
		wantOut = append(wantOut, fmt.Sprintf("%s@%d/%d", key, pout, outOff[pout]))
		inOff[pin]++
		outOff[pout]++
	}
	if !slices.Equal(seen, wantIn) {
		t.Fatalf("processed %v\nwant %v", seen, wantIn)
	}
	if got := keysOf(d.Output("out")); !slices.Equal(got, wantOut) {
		t.Fatalf("sent %v\nwant %v", got, wantOut)
	}
	if err := d.Pipe("out", nil, nil, 0, nil); !errors.Is(err, ErrNotInput) {
		t.Fatalf("pipe to an output: %v", err)
	}
	// A topic nobody named reaches the client, which says so.
	if _, err := tc0[0].Partitions("elsewhere"); !errors.Is(err, errRefused) {
		t.Fatalf("partitions of an unnamed topic: %v", err)
	}
	if err := tc0[0].Send("out", 3, nil, nil, 0, nil); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("send to partition 3 of 3: %v", err)
	}
}

func TestDriverProcessesSentRecordsInSendOrder(t *testing.T) {
	// a → (two records per input) → b → (one per input) → c: breadth
	// first, in send order, each in the task of its partition.
	topo := topology.New("cascade")
	var trace []string
	mk := func(name, from, to string, fan int) {
		n := source(t, topo, name, []string{from}, nil, func(tc topology.TaskContext) (topology.SourceFunc, error) {
			return func(r *topology.RawRecord) error {
				trace = append(trace, fmt.Sprintf("%s:%s", from, r.Value))
				for i := range fan {
					v := fmt.Appendf(nil, "%s.%d", r.Value, i)
					if err := tc.Send(to, -1, v, v, r.Timestamp, nil); err != nil {
						return err
					}
				}
				return nil
			}, nil
		})
		sink(t, topo, n, to)
	}
	mk("A", "a", "b", 2)
	mk("B", "b", "c", 1)
	source(t, topo, "C", []string{"c"}, nil, func(tc topology.TaskContext) (topology.SourceFunc, error) {
		return func(r *topology.RawRecord) error { trace = append(trace, "c:"+string(r.Value)); return nil }, nil
	})
	d := newTestDriver(t, topo, Config{}, DriverConfig{Partitions: map[string]int32{"a": 1, "b": 3, "c": 2}})
	if err := d.Pipe("a", []byte("x"), []byte("x"), 1, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"a:x", "b:x.0", "b:x.1", "c:x.0.0", "c:x.1.0"}
	if !slices.Equal(trace, want) {
		t.Fatalf("processing order %v, want %v", trace, want)
	}
}

func TestDriverStopsATopicThatFeedsItself(t *testing.T) {
	topo := topology.New("loop")
	src := source(t, topo, "src", []string{"loop"}, nil, func(tc topology.TaskContext) (topology.SourceFunc, error) {
		return func(r *topology.RawRecord) error { return tc.Send("loop", -1, r.Key, r.Value, r.Timestamp, nil) }, nil
	})
	sink(t, topo, src, "loop")
	d := newTestDriver(t, topo, Config{}, DriverConfig{})
	d.cascade = 100
	err := d.Pipe("loop", []byte("k"), []byte("v"), 0, nil)
	if err == nil || !strings.Contains(err.Error(), "feed itself") {
		t.Fatalf("pipe into a loop: %v", err)
	}
	if err := d.Pipe("loop", []byte("k"), []byte("v"), 0, nil); !errors.Is(err, ErrDriverStopped) {
		t.Fatalf("pipe after the failure: %v", err)
	}
}

// counting builds a topology counting records per key in store "n"; its
// flushes send "key=count" to "out".
func counting(t *testing.T, flushPanics bool) *topology.Topology {
	topo := topology.New("count")
	if err := topo.AddStore(&topology.StoreSpec{Name: "n", Changelog: "count-n-changelog"}); err != nil {
		t.Fatal(err)
	}
	src := source(t, topo, "src", []string{"in"}, []string{"n"}, func(tc topology.TaskContext) (topology.SourceFunc, error) {
		st, err := tc.Store("n")
		if err != nil {
			return nil, err
		}
		tc.OnFlush("n", func(entries []storage.Mutation) error {
			if flushPanics {
				panic("downstream of the cache")
			}
			for _, m := range entries {
				if err := tc.Send("out", -1, m.Key, fmt.Appendf(nil, "%s=%s", m.Key, m.Value), 0, nil); err != nil {
					return err
				}
			}
			return nil
		})
		return func(r *topology.RawRecord) error {
			old, _, err := st.Get(r.Key)
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(old)) // 0 when absent
			return st.Put(r.Key, []byte(strconv.Itoa(n+1)))
		}, nil
	})
	sink(t, topo, src, "out")
	return topo
}

func TestDriverCommitsEachStepOrOnDemand(t *testing.T) {
	values := func(recs []topology.RawRecord) []string {
		var s []string
		for _, r := range recs {
			s = append(s, string(r.Value))
		}
		return s
	}
	t.Run("each step", func(t *testing.T) {
		d := newTestDriver(t, counting(t, false), Config{}, DriverConfig{})
		for _, k := range []string{"a", "b", "a"} {
			if err := d.Pipe("in", []byte(k), nil, 0, nil); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := values(d.Output("out")), []string{"a=1", "b=1", "a=2"}; !slices.Equal(got, want) {
			t.Fatalf("out %v, want %v", got, want)
		}
		if got := len(d.Output("count-n-changelog")); got != 3 {
			t.Fatalf("%d changelog records, want 3", got)
		}
	})
	t.Run("on demand and at close", func(t *testing.T) {
		d := newTestDriver(t, counting(t, false), Config{}, DriverConfig{ManualCommit: true})
		for _, k := range []string{"b", "a", "b", "a", "a"} {
			if err := d.Pipe("in", []byte(k), nil, 0, nil); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(d.Output("out")); n != 0 {
			t.Fatalf("%d records before the commit", n)
		}
		st, err := d.e.Store("n", 0)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok, _ := st.Get([]byte("a")); !ok || string(v) != "3" {
			t.Fatalf("store a = %q, %v before the commit; want the cached 3", v, ok)
		}
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, want := values(d.Output("out")), []string{"a=3", "b=2"}; !slices.Equal(got, want) {
			t.Fatalf("out %v, want %v", got, want)
		}
		if err := d.Pipe("in", []byte("c"), nil, 0, nil); err != nil {
			t.Fatal(err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if got, want := values(d.Output("out")), []string{"a=3", "b=2", "c=1"}; !slices.Equal(got, want) {
			t.Fatalf("out after close %v, want %v", got, want)
		}
		if err := d.Pipe("in", []byte("c"), nil, 0, nil); !errors.Is(err, ErrDriverClosed) {
			t.Fatalf("pipe after close: %v", err)
		}
	})
	t.Run("a panic while flushing stops the driver", func(t *testing.T) {
		d := newTestDriver(t, counting(t, true), Config{OnProcessingError: Policy{Kind: LogAndContinue}}, DriverConfig{})
		err := d.Pipe("in", []byte("a"), nil, 0, nil)
		if err == nil || !strings.Contains(err.Error(), "flush store n") || !strings.Contains(err.Error(), "downstream of the cache") {
			t.Fatalf("pipe: %v", err)
		}
		if d.Err() == nil {
			t.Fatal("the driver did not stop")
		}
	})
}

func TestDriverWallClock(t *testing.T) {
	topo := topology.New("clock")
	var fired []string
	source(t, topo, "src", []string{"in"}, nil, func(tc topology.TaskContext) (topology.SourceFunc, error) {
		tc.Schedule(3*time.Second, topology.WallClock, func(ts int64) error {
			if now := tc.Now().UnixMilli(); now != ts {
				return fmt.Errorf("punctuation at %d while the clock reads %d", ts, now)
			}
			fired = append(fired, fmt.Sprintf("%s@%d", tc.TaskID(), ts))
			return nil
		})
		return func(*topology.RawRecord) error { return nil }, nil
	})
	start := time.UnixMilli(1_000_000)
	d := newTestDriver(t, topo, Config{}, DriverConfig{Start: start, Partitions: map[string]int32{"in": 2}})
	if err := d.AdvanceWallClock(7 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := []string{"0_0@1003000", "0_1@1003000", "0_0@1006000", "0_1@1006000"}
	if !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if got := d.Now(); !got.Equal(start.Add(7 * time.Second)) {
		t.Fatalf("clock %v", got)
	}
}

func TestDriverNeedsAFreshEngineAndSaneCounts(t *testing.T) {
	topo := topology.New("fresh")
	source(t, topo, "src", []string{"in"}, nil, func(topology.TaskContext) (topology.SourceFunc, error) {
		return func(*topology.RawRecord) error { return nil }, nil
	})
	e, err := New(topo, Config{AppID: "fresh", Client: refusing{}, InMemoryStores: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewDriver(e, DriverConfig{Partitions: map[string]int32{"in": -1}}); !errors.Is(err, ErrConfig) {
		t.Fatalf("negative partitions: %v", err)
	}
	d, err := NewDriver(e, DriverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := NewDriver(e, DriverConfig{}); err == nil {
		t.Fatal("two drivers on one engine")
	}
	if err := e.Run(context.Background()); err == nil {
		t.Fatal("Run on a driver's engine")
	}
}
