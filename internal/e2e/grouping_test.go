package e2e

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Grouping and aggregation: each table is compared with the fold of the
// input computed here, through the output topic's last value per key and
// through table.Lookup while the app runs.

// checkLookups queries every key of want, and keys that must be absent,
// in the running app.
func checkLookups[V any](t *testing.T, r *running, tbl table.Table[string, V], want map[string]V, absent ...string) {
	t.Helper()
	got := map[string]V{}
	for k := range want {
		v, ok, err := table.Lookup(r.app, tbl, k)
		if err != nil {
			t.Fatalf("lookup %s in %s: %v", k, tbl.StoreName(), err)
		}
		if ok {
			got[k] = v
		}
	}
	for _, k := range absent {
		v, ok, err := table.Lookup(r.app, tbl, k)
		if err != nil {
			t.Fatalf("lookup %s in %s: %v", k, tbl.StoreName(), err)
		}
		if ok {
			got[k] = v
		}
	}
	checkTable(t, "lookups in "+tbl.StoreName(), got, want)
}

// checkIncreasing checks that each key's successive values in a table's
// update stream grow: counts and sums of positive values only go up, and
// the cache never forwards one state twice.
func checkIncreasing(t *testing.T, topic string, rs []rec[string, int64]) {
	t.Helper()
	last := map[string]int64{}
	for _, r := range rs {
		if r.Tombstone {
			t.Fatalf("%s: tombstone for %s in an aggregation's updates", topic, r.Key)
		}
		if prev, ok := last[r.Key]; ok && r.Value <= prev {
			t.Fatalf("%s: %s went from %d to %d", topic, r.Key, prev, r.Value)
		}
		last[r.Key] = r.Value
	}
}

func TestGroupByKeyCountWithoutRepartition(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "counts": 2})
	in := newGenerator(11).records("in", 3000, 15, true)
	c.produce(in)

	b := c.builder("e2e-count")
	counts := table.Count(stream.From(b, c.topic("in"), serde.String, serde.Int64).GroupByKey(), table.Named("counts"))
	counts.ToStream().To(c.topic("counts"), nil, nil)
	for name, it := range b.Internal().Topo.InternalTopics {
		if it.Repartition {
			t.Fatalf("grouping an unchanged key created repartition topic %s", name)
		}
	}
	r := c.start(b, stream.Config{})
	r.awaitCaughtUp()

	want := map[string]int64{}
	for _, x := range in {
		if !x.Tombstone { // null values do not count
			want[x.Key]++
		}
	}
	checkLookups(t, r, counts, want)
	r.stopClean()
	out := readTopic(c, "counts", serde.String, serde.Int64)
	checkTable(t, "counts topic", lastValues(out), want)
	checkIncreasing(t, "counts", out)
	for _, o := range out {
		if p := partitionOf(serde.String, o.Key, 2); o.Partition != p {
			t.Fatalf("counts: %s on partition %d, want %d", o.Key, o.Partition, p)
		}
	}
}

func TestGroupByKeyAfterSelectKeyReduce(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "sums": 3})
	in := newGenerator(12).records("in", 3000, 15, true)
	c.produce(in)

	bucket := func(k string, v int64) string { return fmt.Sprint("b", (v%7+7)%7) }
	b := c.builder("e2e-reduce")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	// Absolute values, so every sum only grows.
	abs := stream.MapValues(src, func(_ string, v int64) int64 { return max(v, -v) + 1 }, stream.Serdes[string](nil, serde.Int64))
	rekeyed := stream.SelectKey(abs, bucket, stream.Serdes[string, int64](serde.String, nil))
	sums := table.Reduce(rekeyed.GroupByKey(stream.Named("by-bucket")), func(acc, v int64) int64 { return acc + v }, table.Named("sums"))
	sums.ToStream().To(c.topic("sums"), nil, nil)
	const internal = "e2e-reduce-by-bucket-repartition"
	if it := b.Internal().Topo.InternalTopics[c.topic(internal)]; it == nil || !it.Repartition {
		t.Fatalf("grouping after SelectKey created no repartition topic %s", internal)
	}
	// A cache of a few entries evicts between commits, which forwards
	// updates from inside a record's processing.
	r := c.start(b, stream.Config{CacheMaxBytes: 512})
	r.awaitCaughtUp()

	want := map[string]int64{}
	for _, x := range in {
		if !x.Tombstone {
			v := max(x.Value, -x.Value) + 1
			want[bucket(x.Key, v)] += v
		}
	}
	checkLookups(t, r, sums, want, "b7", "k1")
	r.stopClean()
	out := readTopic(c, "sums", serde.String, serde.Int64)
	checkTable(t, "sums topic", lastValues(out), want)
	checkIncreasing(t, "sums", out)
}

// stats is an aggregate with several fields, written as JSON.
type stats struct {
	Count int64 `json:"count"`
	Sum   int64 `json:"sum"`
	Min   int64 `json:"min"`
	Max   int64 `json:"max"`
}

func (s stats) add(v int64) stats {
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if s.Count == 0 || v > s.Max {
		s.Max = v
	}
	s.Count++
	s.Sum += v
	return s
}

func TestGroupByAggregateOnTwoThreads(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 4, "stats": 3})
	in := newGenerator(13).records("in", 4000, 20, true)
	c.produce(in)

	// Group k0..k19 into five groups by the key's last digit.
	group := func(k string, _ int64) string { return fmt.Sprint("g", (k[len(k)-1]-'0')%5) }
	b := c.builder("e2e-aggregate")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	grouped := stream.GroupBy(src, group, serde.String, stream.Named("by-group"), stream.WithPartitions(2))
	agg := table.Aggregate(grouped, func() stats { return stats{} },
		func(_ string, v int64, s stats) stats { return s.add(v) }, serde.JSON[stats](), table.Named("stats"))
	agg.ToStream().To(c.topic("stats"), nil, nil)
	r := c.start(b, stream.Config{Threads: 2})
	r.awaitCaughtUp()

	want := map[string]stats{}
	for _, x := range in {
		if !x.Tombstone {
			g := group(x.Key, x.Value)
			want[g] = want[g].add(x.Value)
		}
	}
	checkLookups(t, r, agg, want, "g5")
	r.stopClean()
	if n := c.partitions("e2e-aggregate-by-group-repartition"); n != 2 {
		t.Errorf("repartition topic has %d partitions, want 2", n)
	}
	out := readTopic(c, "stats", serde.String, serde.JSON[stats]())
	checkTable(t, "stats topic", lastValues(out), want)
	counts := make([]rec[string, int64], len(out))
	for i, o := range out {
		counts[i] = rec[string, int64]{Key: o.Key, Value: o.Value.Count}
	}
	checkIncreasing(t, "stats counts", counts)
}
