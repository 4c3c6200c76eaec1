package streamtest_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// The aggregations are compared with folds computed directly from the
// input: after each piped record the driver flushes, so every update leaves
// as one record, with the key's running result and the largest timestamp
// of the records folded into it.

// running folds values by key and returns the expected update records.
func running[V any](evs []event, key func(event) (string, bool), init func() V, fold func(V, event) V, partitions int32) ([]rec[string, V], map[string]V) {
	acc := map[string]V{}
	maxTS := map[string]int64{}
	var out []rec[string, V]
	for _, e := range evs {
		k, ok := key(e)
		if !ok {
			continue
		}
		v, seen := acc[k]
		if !seen {
			v = init()
		}
		acc[k] = fold(v, e)
		maxTS[k] = max(maxTS[k], e.ts)
		out = append(out, rec[string, V]{Key: k, Value: acc[k], TS: maxTS[k], Partition: partitionOf(serde.String, k, partitions)})
	}
	return out, acc
}

// checkTable compares a materialized table's contents, and point lookups,
// with a map.
func checkTable[V any](t *testing.T, d *streamtest.Driver, tbl table.Table[string, V], want map[string]V) {
	t.Helper()
	got, err := streamtest.TableContents(d, tbl)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys) // string keys serialize as themselves: byte order
	if len(got) != len(keys) {
		t.Fatalf("table %s has %d entries, want %d", tbl.StoreName(), len(got), len(keys))
	}
	for i, kv := range got {
		if kv.Key != keys[i] || !reflect.DeepEqual(kv.Value, want[keys[i]]) {
			t.Fatalf("table %s entry %d: %v=%v, want %v=%v", tbl.StoreName(), i, kv.Key, kv.Value, keys[i], want[keys[i]])
		}
		v, ok, err := streamtest.TableValue(d, tbl, kv.Key)
		if err != nil || !ok || !reflect.DeepEqual(v, kv.Value) {
			t.Fatalf("TableValue(%s) = %v, %v, %v; want %v", kv.Key, v, ok, err, kv.Value)
		}
	}
	if _, ok, err := streamtest.TableValue(d, tbl, "no such key"); ok || err != nil {
		t.Fatalf("TableValue of a missing key: found=%v err=%v", ok, err)
	}
}

func nonTombstoneKey(e event) (string, bool) { return e.key, !e.tombstone }

func TestGroupByKeyCount(t *testing.T) {
	b := stream.NewBuilder("count")
	src := stream.From(b, "in", serde.String, serde.Int64)
	counts := table.Count(src.GroupByKey(), table.Named("counts"))
	counts.ToStream().To("counts-out", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 3), streamtest.Partitions("counts-out", 2))
	evs := randomEvents(10, 400, 11, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	want, final := running(evs, nonTombstoneKey, func() int64 { return 0 }, func(n int64, _ event) int64 { return n + 1 }, 2)
	out := streamtest.Output(d, "counts-out", serde.String, serde.Int64)
	checkRecords(t, "counts-out", out.ReadAll(), want)
	checkTable(t, d, counts, final)

	// No repartition: the keys did not change, so the store's task is the
	// input partition's, and so is its changelog partition.
	changelog := make([]rec[string, int64], len(want))
	for i, w := range want {
		changelog[i] = rec[string, int64]{Key: w.Key, Value: w.Value, TS: 0, Partition: partitionOf(serde.String, w.Key, 3)}
	}
	got := streamtest.Output(d, "count-counts-changelog", serde.String, timestamped(serde.Int64)).ReadAll()
	checkRecords(t, "count-counts-changelog", got, changelog)
}

// timestamped reads a store value as the changelog holds it: eight bytes
// of timestamp, then the value.
func timestamped[V any](vs serde.Serde[V]) serde.Serde[V] {
	return serde.Func(func(V) ([]byte, error) { return nil, errors.New("read only") },
		func(b []byte) (V, error) {
			if len(b) < 8 {
				var zero V
				return zero, fmt.Errorf("%d bytes", len(b))
			}
			return vs.Deserialize("", b[8:])
		})
}

func TestGroupByKeyAfterMapRepartitions(t *testing.T) {
	newKey := func(v int64) string { return fmt.Sprint("m", (v%4+4)%4) }
	b := stream.NewBuilder("regroup")
	src := stream.From(b, "in", serde.String, serde.Int64)
	mapped := stream.Map(src, func(_ string, v int64) (string, int64) { return newKey(v), v }, stream.Serdes(serde.String, serde.Int64))
	counts := table.Count(mapped.GroupByKey(stream.Named("by-mod")), table.Named("mod-counts"))
	counts.ToStream().To("out", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 3))
	evs := randomEvents(11, 400, 6, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	key := func(e event) (string, bool) { return newKey(e.value), !e.tombstone }
	want, final := running(evs, key, func() int64 { return 0 }, func(n int64, _ event) int64 { return n + 1 }, 1)
	checkRecords(t, "out", streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll(), want)
	checkTable(t, d, counts, final)
	through := streamtest.Output(d, "regroup-by-mod-repartition", serde.String, serde.Int64)
	if n := through.Unread(); n != len(want) {
		t.Fatalf("%d records through the repartition topic, want %d", n, len(want))
	}
}

type stats struct {
	Count, Sum, Min, Max int64
}

func TestGroupByReduceAndAggregate(t *testing.T) {
	group := func(v int64) string { return fmt.Sprint("g", (v%3+3)%3) }
	b := stream.NewBuilder("agg")
	src := stream.From(b, "in", serde.String, serde.Int64)
	g := stream.GroupBy(src, func(_ string, v int64) string { return group(v) }, serde.String, stream.Named("by-group"))
	sums := table.Reduce(g, func(acc, v int64) int64 { return acc + v }, table.Named("sums"))
	sums.ToStream().To("sums-out", nil, nil)
	st := table.Aggregate(g, func() stats { return stats{Min: math.MaxInt64, Max: math.MinInt64} },
		func(_ string, v int64, a stats) stats {
			return stats{Count: a.Count + 1, Sum: a.Sum + v, Min: min(a.Min, v), Max: max(a.Max, v)}
		}, serde.JSON[stats](), table.Named("stats"))
	st.ToStream().To("stats-out", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 2), streamtest.Partitions("sums-out", 3))
	evs := randomEvents(12, 400, 8, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	key := func(e event) (string, bool) { return group(e.value), !e.tombstone }
	wantSums, finalSums := running(evs, key, func() int64 { return 0 }, func(s int64, e event) int64 { return s + e.value }, 3)
	wantStats, finalStats := running(evs, key, func() stats { return stats{Min: math.MaxInt64, Max: math.MinInt64} },
		func(a stats, e event) stats {
			return stats{Count: a.Count + 1, Sum: a.Sum + e.value, Min: min(a.Min, e.value), Max: max(a.Max, e.value)}
		}, 1)
	checkRecords(t, "sums-out", streamtest.Output(d, "sums-out", serde.String, serde.Int64).ReadAll(), wantSums)
	checkRecords(t, "stats-out", streamtest.Output(d, "stats-out", serde.String, serde.JSON[stats]()).ReadAll(), wantStats)
	checkTable(t, d, sums, finalSums)
	checkTable(t, d, st, finalStats)
}

// tableEvents pipes events into a table's topic, with a keyless record
// (which a table ignores) before every tenth, and returns the expected
// update stream: one record per keyed input, deletes as tombstones stamped
// with the task's stream time, and the final table.
func tableEvents(t *testing.T, d *streamtest.Driver, topic string, parts int32, evs []event) ([]rec[string, int64], map[string]int64) {
	t.Helper()
	in := streamtest.Input(d, topic, serde.String, serde.Int64)
	streamTime := map[int32]int64{}
	final := map[string]int64{}
	var want []rec[string, int64]
	for i, e := range evs {
		if i%10 == 0 {
			ts := e.ts + 5000
			if err := in.PipeValue(99, time.UnixMilli(ts)); err != nil {
				t.Fatal(err)
			}
			streamTime[0] = max(streamTime[0], ts) // keyless records land on partition 0
		}
		pipeAll(t, in, []event{e})
		p := partitionOf(serde.String, e.key, parts)
		streamTime[p] = max(streamTime[p], e.ts)
		r := rec[string, int64]{Key: e.key, Value: e.value, TS: e.ts, Tombstone: e.tombstone}
		if e.tombstone {
			r.TS = streamTime[p]
			delete(final, e.key)
		} else {
			final[e.key] = e.value
		}
		want = append(want, r)
	}
	return want, final
}

func TestTableFromWithTombstones(t *testing.T) {
	b := stream.NewBuilder("from")
	users := table.From(b, "users", serde.String, serde.Int64, table.Named("users"))
	users.ToStream().To("users-out", nil, nil)
	d := start(t, b, streamtest.Partitions("users", 2))
	evs := randomEvents(13, 300, 9, true)
	want, final := tableEvents(t, d, "users", 2, evs)
	checkRecords(t, "users-out", streamtest.Output(d, "users-out", serde.String, serde.Int64).ReadAll(), want)
	checkTable(t, d, users, final)
	for _, e := range evs {
		if _, ok := final[e.key]; !ok {
			if _, found, err := streamtest.TableValue(d, users, e.key); found || err != nil {
				t.Fatalf("deleted key %s: found=%v err=%v", e.key, found, err)
			}
		}
	}
}

func TestTableFilterMapValuesToStream(t *testing.T) {
	b := stream.NewBuilder("derive")
	src := table.From(b, "in", serde.String, serde.Int64, table.Named("src"))
	even := src.Filter(func(_ string, v int64) bool { return v%2 == 0 })
	scaled := table.MapValues(even, func(_ string, v int64) string { return fmt.Sprint(v * 10) }, serde.String)
	scaled.ToStream().To("out", nil, nil)
	d := start(t, b)
	evs := randomEvents(14, 300, 7, true)
	base, final := tableEvents(t, d, "in", 1, evs)

	var want []rec[string, string]
	for _, r := range base {
		w := rec[string, string]{Key: r.Key, TS: r.TS, Tombstone: r.Tombstone || r.Value%2 != 0}
		if !w.Tombstone {
			w.Value = fmt.Sprint(r.Value * 10)
		}
		want = append(want, w) // a filtered-out value is a delete downstream
	}
	checkRecords(t, "out", streamtest.Output(d, "out", serde.String, serde.String).ReadAll(), want)
	checkTable(t, d, src, final)
	if _, _, err := streamtest.TableValue(d, scaled, "k1"); !errors.Is(err, table.ErrNotQueryable) {
		t.Fatalf("TableValue on a derived table: %v, want ErrNotQueryable", err)
	}
	if _, err := streamtest.TableContents(d, even); !errors.Is(err, table.ErrNotQueryable) {
		t.Fatalf("TableContents on a derived table: %v, want ErrNotQueryable", err)
	}
}

func TestManualCommitCollapsesUpdates(t *testing.T) {
	b := stream.NewBuilder("manual")
	counts := table.Count(stream.From(b, "in", serde.String, serde.Int64).GroupByKey(), table.Named("counts"))
	counts.ToStream().To("out", nil, nil)
	d := start(t, b, streamtest.ManualCommit())
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	out := streamtest.Output(d, "out", serde.String, serde.Int64)

	evs := randomEvents(15, 300, 6, false)
	totals := map[string]int64{}
	maxTS := map[string]int64{}
	for round, part := range [][]event{evs[:200], evs[200:]} {
		pipeAll(t, in, part)
		touched := map[string]bool{}
		for _, e := range part {
			totals[e.key]++
			maxTS[e.key] = max(maxTS[e.key], e.ts)
			touched[e.key] = true
		}
		if n := out.Unread(); n != 0 {
			t.Fatalf("round %d: %d records out before the commit", round, n)
		}
		// Lookups see the cached, uncommitted counts.
		checkTable(t, d, counts, totals)
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		var want []rec[string, int64]
		for _, k := range slices.Sorted(maps.Keys(touched)) { // a flush is ordered by key
			want = append(want, rec[string, int64]{Key: k, Value: totals[k], TS: maxTS[k]})
		}
		checkRecords(t, fmt.Sprint("out, round ", round), out.ReadAll(), want)
	}
}

func TestLevelDBStateDir(t *testing.T) {
	dir := t.TempDir()
	build := func() (*stream.Builder, table.Table[string, int64]) {
		b := stream.NewBuilder("disk")
		sums := table.Reduce(stream.From(b, "in", serde.String, serde.Int64).GroupByKey(),
			func(a, v int64) int64 { return a + v }, table.Named("sums"))
		sums.ToStream().To("out", nil, nil)
		return b, sums
	}
	b, sums := build()
	d, err := streamtest.New(b, streamtest.StateDir(dir), streamtest.Partitions("in", 2))
	if err != nil {
		t.Fatal(err)
	}
	evs := randomEvents(16, 300, 10, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)
	want, final := running(evs, nonTombstoneKey, func() int64 { return 0 }, func(s int64, e event) int64 { return s + e.value }, 1)
	checkRecords(t, "out", streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll(), want)
	checkTable(t, d, sums, final)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := streamtest.TableValue(d, sums, "k1"); err == nil {
		t.Fatal("TableValue after Close: no error")
	}

	// A new driver on the same directory starts as the app would on empty
	// changelogs: with empty stores.
	b2, sums2 := build()
	d2 := start(t, b2, streamtest.StateDir(dir), streamtest.Partitions("in", 2))
	if got, err := streamtest.TableContents(d2, sums2); err != nil || len(got) != 0 {
		t.Fatalf("second driver's table: %v, %v; want empty", got, err)
	}
}
