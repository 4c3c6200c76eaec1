package e2e

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// Stateless operators: every output record is compared with what the
// operator's definition gives for the input, in order per input partition
// and output partition.

func TestFilterFilterNotPeekForEach(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "evens": 2, "odds": 5})
	in := newGenerator(1).records("in", 3000, 12, true)
	c.produce(in)

	even := func(_ string, v int64) bool { return v%2 == 0 }
	var peeked, each collector
	b := c.builder("e2e-filter")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	src.Filter(even).Peek(func(k string, v int64) { peeked.add(fmt.Sprint(k, "=", v)) }).To(c.topic("evens"), nil, nil)
	src.FilterNot(even).To(c.topic("odds"), nil, nil)
	src.ForEach(func(k string, v int64) { each.add(fmt.Sprint(k, "=", v)) })
	c.runToEnd(b, stream.Config{})

	var evens, odds []rec[string, int64]
	var wantPeeked, wantEach []string
	for _, r := range in {
		out := rec[string, int64]{Key: r.Key, Value: r.Value, TS: r.TS, Tombstone: r.Tombstone}
		// Filters pass tombstones on without asking the predicate; Peek
		// and ForEach do not call the function for them.
		if r.Tombstone || even(r.Key, r.Value) {
			out.Partition = partitionOf(serde.String, r.Key, 2)
			evens = append(evens, out)
		}
		if r.Tombstone || !even(r.Key, r.Value) {
			out.Partition = partitionOf(serde.String, r.Key, 5)
			odds = append(odds, out)
		}
		if !r.Tombstone {
			wantEach = append(wantEach, fmt.Sprint(r.Key, "=", r.Value))
			if even(r.Key, r.Value) {
				wantPeeked = append(wantPeeked, fmt.Sprint(r.Key, "=", r.Value))
			}
		}
	}
	origin := origins(in)
	checkStream(t, "evens", readTopic(c, "evens", serde.String, serde.Int64), evens, origin)
	checkStream(t, "odds", readTopic(c, "odds", serde.String, serde.Int64), odds, origin)
	if got, want := multiset(peeked.all()), multiset(wantPeeked); !reflect.DeepEqual(got, want) {
		t.Errorf("Peek saw %d records (%d distinct), want %d (%d distinct)", len(peeked.all()), len(got), len(wantPeeked), len(want))
	}
	if got, want := multiset(each.all()), multiset(wantEach); !reflect.DeepEqual(got, want) {
		t.Errorf("ForEach saw %d records (%d distinct), want %d (%d distinct)", len(each.all()), len(got), len(wantEach), len(want))
	}
}

func TestMapMapValuesSelectKey(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 4, "swapped": 3, "described": 2, "rekeyed": 5})
	in := newGenerator(2).records("in", 3000, 10, true)
	c.produce(in)

	newKey := func(v int64) string { return fmt.Sprint("m", (v%7+7)%7) }
	b := c.builder("e2e-map")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	stream.Map(src, func(k string, v int64) (int64, string) { return v, k }, stream.Serdes(serde.Int64, serde.String)).
		To(c.topic("swapped"), nil, nil)
	stream.MapValues(src, func(k string, v int64) string { return fmt.Sprint(k, ":", v*2) }, stream.Serdes[string](nil, serde.String)).
		To(c.topic("described"), nil, nil)
	stream.SelectKey(src, func(_ string, v int64) string { return newKey(v) }, stream.Serdes[string, int64](serde.String, nil)).
		To(c.topic("rekeyed"), nil, nil)
	c.runToEnd(b, stream.Config{})

	var swapped []rec[int64, string]
	var described []rec[string, string]
	var rekeyed []rec[string, int64]
	for _, r := range in {
		d := rec[string, string]{Key: r.Key, TS: r.TS, Tombstone: r.Tombstone, Partition: partitionOf(serde.String, r.Key, 2)}
		if !r.Tombstone {
			d.Value = fmt.Sprint(r.Key, ":", r.Value*2)
		}
		described = append(described, d) // MapValues keeps tombstones
		if r.Tombstone {
			continue // Map and SelectKey drop them: there is no value to map
		}
		swapped = append(swapped, rec[int64, string]{Key: r.Value, Value: r.Key, TS: r.TS, Partition: partitionOf(serde.Int64, r.Value, 3)})
		k := newKey(r.Value)
		rekeyed = append(rekeyed, rec[string, int64]{Key: k, Value: r.Value, TS: r.TS, Partition: partitionOf(serde.String, k, 5)})
	}
	origin := origins(in)
	checkStream(t, "swapped", readTopic(c, "swapped", serde.Int64, serde.String), swapped, origin)
	checkStream(t, "described", readTopic(c, "described", serde.String, serde.String), described, origin)
	checkStream(t, "rekeyed", readTopic(c, "rekeyed", serde.String, serde.Int64), rekeyed, origin)
}

func TestFlatMapFlatMapValues(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "flat": 4, "flat-values": 2})
	in := newGenerator(3).records("in", 2500, 8, true)
	c.produce(in)

	fan := func(v int64) int { return int((v%4 + 4) % 4) } // 0 to 3 outputs
	b := c.builder("e2e-flatmap")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	stream.FlatMap(src, func(k string, v int64) []stream.KeyValue[string, int64] {
		var out []stream.KeyValue[string, int64]
		for i := range fan(v) {
			out = append(out, stream.KeyValue[string, int64]{Key: fmt.Sprint(k, "-", i), Value: v + int64(i)})
		}
		return out
	}, stream.Serdes(serde.String, serde.Int64)).To(c.topic("flat"), nil, nil)
	stream.FlatMapValues(src, func(k string, v int64) []string {
		var out []string
		for i := range fan(v) {
			out = append(out, fmt.Sprint(k, "#", v, "#", i))
		}
		return out
	}, stream.Serdes[string](nil, serde.String)).To(c.topic("flat-values"), nil, nil)
	c.runToEnd(b, stream.Config{})

	var flat []rec[string, int64]
	var flatValues []rec[string, string]
	for _, r := range in {
		if r.Tombstone {
			continue // both drop tombstones
		}
		for i := range fan(r.Value) {
			k := fmt.Sprint(r.Key, "-", i)
			flat = append(flat, rec[string, int64]{Key: k, Value: r.Value + int64(i), TS: r.TS, Partition: partitionOf(serde.String, k, 4)})
			flatValues = append(flatValues, rec[string, string]{Key: r.Key, Value: fmt.Sprint(r.Key, "#", r.Value, "#", i), TS: r.TS,
				Partition: partitionOf(serde.String, r.Key, 2)})
		}
	}
	origin := origins(in)
	checkStream(t, "flat", readTopic(c, "flat", serde.String, serde.Int64), flat, origin)
	checkStream(t, "flat-values", readTopic(c, "flat-values", serde.String, serde.String), flatValues, origin)
}

func TestSplitAllBranchesAndMerge(t *testing.T) {
	t.Parallel()
	topics := map[string]int32{"in": 3, "merged": 2}
	for i := range 4 {
		topics[fmt.Sprint("branch-", i)] = int32(i + 1)
	}
	c := newCluster(t, topics)
	in := newGenerator(4).records("in", 3000, 9, true)
	c.produce(in)

	preds := []func(string, int64) bool{
		func(_ string, v int64) bool { return v < -50 },
		func(_ string, v int64) bool { return v < 0 },
		func(_ string, v int64) bool { return v < 50 },
	}
	b := c.builder("e2e-split")
	branches := stream.From(b, c.topic("in"), serde.String, serde.Int64).Split(preds...)
	if len(branches) != 4 {
		t.Fatalf("Split with 3 predicates returned %d branches, want 4", len(branches))
	}
	for i, br := range branches {
		br.To(c.topic(fmt.Sprint("branch-", i)), nil, nil)
	}
	branches[0].Merge(branches[3]).To(c.topic("merged"), nil, nil)
	c.runToEnd(b, stream.Config{})

	want := make([][]rec[string, int64], 4)
	var merged []rec[string, int64]
	for _, r := range in {
		branch := 3 // the default branch, tombstones included
		for i, p := range preds {
			if !r.Tombstone && p(r.Key, r.Value) {
				branch = i
				break
			}
		}
		out := rec[string, int64]{Key: r.Key, Value: r.Value, TS: r.TS, Tombstone: r.Tombstone,
			Partition: partitionOf(serde.String, r.Key, int32(branch+1))}
		want[branch] = append(want[branch], out)
		if branch == 0 || branch == 3 {
			out.Partition = partitionOf(serde.String, r.Key, 2)
			merged = append(merged, out)
		}
	}
	origin := origins(in)
	for i := range want {
		topic := fmt.Sprint("branch-", i)
		checkStream(t, topic, readTopic(c, topic, serde.String, serde.Int64), want[i], origin)
	}
	checkStream(t, "merged", readTopic(c, "merged", serde.String, serde.Int64), merged, origin)
}

func TestFromTopicsReadsEveryTopic(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"a": 3, "b": 3, "c": 3, "out": 3})
	g := newGenerator(5)
	a, bIn, cIn := g.records("a", 1500, 8, true), g.records("b", 1500, 8, true), g.records("c", 800, 8, false)
	c.produce(a)
	c.produce(bIn)
	c.produce(cIn)

	b := c.builder("e2e-fromtopics")
	ab := stream.FromTopics(b, []string{c.topic("a"), c.topic("b")}, serde.String, serde.Int64)
	only := stream.From(b, c.topic("c"), serde.String, serde.Int64)
	stream.MapValues(ab.Merge(only), func(_ string, v int64) int64 { return v * 10 }, stream.Serdes[string](nil, serde.Int64)).
		To(c.topic("out"), nil, nil)
	c.runToEnd(b, stream.Config{})

	var want []rec[string, int64]
	for _, rs := range [][]input{a, bIn, cIn} {
		for _, r := range rs {
			want = append(want, rec[string, int64]{Key: r.Key, Value: r.Value * 10, TS: r.TS, Tombstone: r.Tombstone,
				Partition: partitionOf(serde.String, r.Key, 3)})
		}
	}
	checkStream(t, "out", readTopic(c, "out", serde.String, serde.Int64), want, origins(a, bIn, cIn))
}

func TestToWithCustomPartitioner(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "by-value": 4})
	in := newGenerator(6).records("in", 3000, 10, true)
	c.produce(in)

	byValue := func(_ string, v int64, n int32) int32 { return int32((v%int64(n) + int64(n)) % int64(n)) }
	b := c.builder("e2e-partitioner")
	stream.From(b, c.topic("in"), serde.String, serde.Int64).To(c.topic("by-value"), nil, nil, stream.WithPartitioner(byValue))
	c.runToEnd(b, stream.Config{})

	var want []rec[string, int64]
	for _, r := range in {
		// A tombstone reaches the partitioner with the zero value.
		want = append(want, rec[string, int64]{Key: r.Key, Value: r.Value, TS: r.TS, Tombstone: r.Tombstone,
			Partition: byValue(r.Key, r.Value, 4)})
	}
	checkStream(t, "by-value", readTopic(c, "by-value", serde.String, serde.Int64), want, origins(in))
}

func TestRepartitionByNewKey(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "out": 2})
	in := newGenerator(7).records("in", 3000, 10, true)
	c.produce(in)

	newKey := func(k string, v int64) string { return fmt.Sprint(k, "/", (v%3+3)%3) }
	b := c.builder("e2e-repartition")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	rekeyed := stream.SelectKey(src, newKey, stream.Serdes[string, int64](serde.String, nil))
	rekeyed.Repartition(stream.Named("rekey"), stream.WithPartitions(5)).To(c.topic("out"), nil, nil)
	const internal = "e2e-repartition-rekey-repartition"
	c.runToEnd(b, stream.Config{})

	if n := c.partitions(internal); n != 5 {
		t.Errorf("%s has %d partitions, want 5 (WithPartitions)", internal, n)
	}
	var through, out []rec[string, int64]
	for _, r := range in {
		if r.Tombstone {
			continue
		}
		k := newKey(r.Key, r.Value)
		o := rec[string, int64]{Key: k, Value: r.Value, TS: r.TS}
		o.Partition = partitionOf(serde.String, k, 5)
		through = append(through, o)
		o.Partition = partitionOf(serde.String, k, 2)
		out = append(out, o)
	}
	origin := origins(in)
	// The internal topic holds each record on its new key's partition.
	checkStream(t, internal, readTopic(c, internal, serde.String, serde.Int64), through, origin)
	checkStream(t, "out", readTopic(c, "out", serde.String, serde.Int64), out, origin, func(r rec[string, int64]) string {
		return fmt.Sprintf("%s-%d", internal, partitionOf(serde.String, r.Key, 5))
	})
}
