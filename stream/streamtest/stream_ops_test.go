package streamtest_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
)

// Every stateless operator's output is compared, record by record, with
// what the operator's definition gives for the same random input:
// key, value, timestamp, tombstone and output partition.

func TestFilterAndFilterNot(t *testing.T) {
	b := stream.NewBuilder("filter")
	src := stream.From(b, "in", serde.String, serde.Int64)
	src.Filter(func(_ string, v int64) bool { return v%2 == 0 }).To("evens", nil, nil)
	src.FilterNot(func(_ string, v int64) bool { return v%2 == 0 }).To("odds", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 3), streamtest.Partitions("evens", 2), streamtest.Partitions("odds", 5))
	evs := randomEvents(1, 300, 7, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var evens, odds []rec[string, int64]
	for _, e := range evs {
		r := rec[string, int64]{Key: e.key, Value: e.value, TS: e.ts, Tombstone: e.tombstone}
		if e.tombstone || e.value%2 == 0 { // tombstones pass filters untested
			r.Partition = partitionOf(serde.String, e.key, 2)
			evens = append(evens, r)
		}
		if e.tombstone || e.value%2 != 0 {
			r.Partition = partitionOf(serde.String, e.key, 5)
			odds = append(odds, r)
		}
	}
	checkRecords(t, "evens", streamtest.Output(d, "evens", serde.String, serde.Int64).ReadAll(), evens)
	checkRecords(t, "odds", streamtest.Output(d, "odds", serde.String, serde.Int64).ReadAll(), odds)
}

func TestMapAndMapValues(t *testing.T) {
	b := stream.NewBuilder("map")
	src := stream.From(b, "in", serde.String, serde.Int64)
	stream.Map(src, func(k string, v int64) (int64, string) { return v, k }, stream.Serdes(serde.Int64, serde.String)).
		To("swapped", nil, nil)
	stream.MapValues(src, func(k string, v int64) string { return fmt.Sprint(k, ":", v*2) }, stream.Serdes[string](nil, serde.String)).
		To("described", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 2), streamtest.Partitions("swapped", 4), streamtest.Partitions("described", 3))
	evs := randomEvents(2, 300, 6, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var swapped []rec[int64, string]
	var described []rec[string, string]
	for _, e := range evs {
		if !e.tombstone { // Map drops tombstones: it cannot map a missing value
			swapped = append(swapped, rec[int64, string]{Key: e.value, Value: e.key, TS: e.ts, Partition: partitionOf(serde.Int64, e.value, 4)})
		}
		r := rec[string, string]{Key: e.key, TS: e.ts, Tombstone: e.tombstone, Partition: partitionOf(serde.String, e.key, 3)}
		if !e.tombstone {
			r.Value = fmt.Sprint(e.key, ":", e.value*2)
		}
		described = append(described, r)
	}
	checkRecords(t, "swapped", streamtest.Output(d, "swapped", serde.Int64, serde.String).ReadAll(), swapped)
	checkRecords(t, "described", streamtest.Output(d, "described", serde.String, serde.String).ReadAll(), described)
}

func TestFlatMapAndFlatMapValues(t *testing.T) {
	fan := func(v int64) int { return int((v%3 + 3) % 3) } // 0, 1 or 2 outputs
	b := stream.NewBuilder("flatmap")
	src := stream.From(b, "in", serde.String, serde.Int64)
	stream.FlatMap(src, func(k string, v int64) []stream.KeyValue[string, int64] {
		var out []stream.KeyValue[string, int64]
		for i := range fan(v) {
			out = append(out, stream.KeyValue[string, int64]{Key: fmt.Sprint(k, "-", i), Value: v + int64(i)})
		}
		return out
	}, stream.Serdes(serde.String, serde.Int64)).To("flat", nil, nil)
	stream.FlatMapValues(src, func(k string, v int64) []string {
		var out []string
		for i := range fan(v) {
			out = append(out, fmt.Sprint(k, "#", i))
		}
		return out
	}, stream.Serdes[string](nil, serde.String)).To("flat-values", nil, nil)
	d := start(t, b, streamtest.Partitions("flat", 3), streamtest.Partitions("flat-values", 2))
	evs := randomEvents(3, 300, 5, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var flat []rec[string, int64]
	var flatValues []rec[string, string]
	for _, e := range evs {
		if e.tombstone {
			continue // both drop tombstones
		}
		for i := range fan(e.value) {
			k := fmt.Sprint(e.key, "-", i)
			flat = append(flat, rec[string, int64]{Key: k, Value: e.value + int64(i), TS: e.ts, Partition: partitionOf(serde.String, k, 3)})
			flatValues = append(flatValues, rec[string, string]{Key: e.key, Value: fmt.Sprint(e.key, "#", i), TS: e.ts, Partition: partitionOf(serde.String, e.key, 2)})
		}
	}
	checkRecords(t, "flat", streamtest.Output(d, "flat", serde.String, serde.Int64).ReadAll(), flat)
	checkRecords(t, "flat-values", streamtest.Output(d, "flat-values", serde.String, serde.String).ReadAll(), flatValues)
}

func TestSelectKey(t *testing.T) {
	newKey := func(v int64) string { return fmt.Sprint("m", (v%5+5)%5) }
	b := stream.NewBuilder("selectkey")
	src := stream.From(b, "in", serde.String, serde.Int64)
	stream.SelectKey(src, func(_ string, v int64) string { return newKey(v) }, stream.Serdes[string, int64](serde.String, nil)).
		To("rekeyed", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 2), streamtest.Partitions("rekeyed", 3))
	evs := randomEvents(4, 300, 8, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var want []rec[string, int64]
	for _, e := range evs {
		if !e.tombstone {
			k := newKey(e.value)
			want = append(want, rec[string, int64]{Key: k, Value: e.value, TS: e.ts, Partition: partitionOf(serde.String, k, 3)})
		}
	}
	checkRecords(t, "rekeyed", streamtest.Output(d, "rekeyed", serde.String, serde.Int64).ReadAll(), want)
}

func TestPeekAndForEachKeepHeaders(t *testing.T) {
	var peeked, each []string
	b := stream.NewBuilder("peek")
	src := stream.From(b, "in", serde.String, serde.Int64)
	src.Peek(func(k string, v int64) { peeked = append(peeked, fmt.Sprint(k, "=", v)) }).To("peeked", nil, nil)
	src.ForEach(func(k string, v int64) { each = append(each, fmt.Sprint(k, "=", v)) })
	d := start(t, b)
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	evs := randomEvents(5, 250, 4, true)
	var want []rec[string, int64]
	var wantSeen []string
	for i, e := range evs {
		h := stream.Header{Key: "seq", Value: fmt.Appendf(nil, "%d", i)}
		var err error
		if e.tombstone {
			err = in.PipeTombstone(e.key, time.UnixMilli(e.ts), h)
		} else {
			err = in.PipeAt(e.key, e.value, e.ts, h)
			wantSeen = append(wantSeen, fmt.Sprint(e.key, "=", e.value))
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec[string, int64]{Key: e.key, Value: e.value, TS: e.ts, Tombstone: e.tombstone})
	}
	out := streamtest.Output(d, "peeked", serde.String, serde.Int64)
	got := out.ReadAll()
	checkRecords(t, "peeked", got, want)
	for i, r := range got {
		if h, ok := r.Header("seq"); !ok || string(h) != fmt.Sprint(i) {
			t.Fatalf("record %d: header seq = %q, %v", i, h, ok)
		}
	}
	// User functions see values only, never tombstones.
	if !reflect.DeepEqual(peeked, wantSeen) || !reflect.DeepEqual(each, wantSeen) {
		t.Fatalf("peek saw %d records, for-each %d, want %d", len(peeked), len(each), len(wantSeen))
	}
}

func TestSplit(t *testing.T) {
	b := stream.NewBuilder("split")
	src := stream.From(b, "in", serde.String, serde.Int64)
	branches := src.Split(
		func(_ string, v int64) bool { return v < -50 },
		func(_ string, v int64) bool { return v < 0 },
	)
	for i, br := range branches {
		br.To(fmt.Sprint("branch-", i), nil, nil)
	}
	d := start(t, b, streamtest.Partitions("in", 2))
	evs := randomEvents(6, 300, 6, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	want := make([][]rec[string, int64], 3)
	for _, e := range evs {
		i := 2 // the default branch, which also takes tombstones
		switch {
		case e.tombstone:
		case e.value < -50:
			i = 0
		case e.value < 0:
			i = 1
		}
		want[i] = append(want[i], rec[string, int64]{Key: e.key, Value: e.value, TS: e.ts, Tombstone: e.tombstone})
	}
	for i := range want {
		topic := fmt.Sprint("branch-", i)
		checkRecords(t, topic, streamtest.Output(d, topic, serde.String, serde.Int64).ReadAll(), want[i])
	}
}

func TestMerge(t *testing.T) {
	b := stream.NewBuilder("merge")
	left := stream.From(b, "left", serde.String, serde.Int64)
	right := stream.MapValues(stream.From(b, "right", serde.String, serde.Int64),
		func(_ string, v int64) int64 { return v * 1000 }, stream.Serdes[string](nil, serde.Int64))
	left.Merge(right).To("merged", nil, nil)
	d := start(t, b, streamtest.Partitions("left", 2), streamtest.Partitions("right", 2), streamtest.Partitions("merged", 3))
	inL := streamtest.Input(d, "left", serde.String, serde.Int64)
	inR := streamtest.Input(d, "right", serde.String, serde.Int64)
	evs := randomEvents(7, 300, 5, true)
	pick := rand.New(rand.NewPCG(7, 7))
	var want []rec[string, int64]
	for _, e := range evs {
		in, v := inL, e.value
		if pick.IntN(2) == 1 {
			in, v = inR, e.value*1000
		}
		pipeAll(t, in, []event{e})
		want = append(want, rec[string, int64]{Key: e.key, Value: v, TS: e.ts, Tombstone: e.tombstone, Partition: partitionOf(serde.String, e.key, 3)})
	}
	checkRecords(t, "merged", streamtest.Output(d, "merged", serde.String, serde.Int64).ReadAll(), want)
}

func TestToWithPartitioner(t *testing.T) {
	byValue := func(_ string, v int64, n int32) int32 { return int32((v%int64(n) + int64(n)) % int64(n)) }
	b := stream.NewBuilder("partitioner")
	stream.From(b, "in", serde.String, serde.Int64).To("out", nil, nil, stream.WithPartitioner(byValue))
	d := start(t, b, streamtest.Partitions("out", 4))
	evs := randomEvents(8, 300, 5, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var want []rec[string, int64]
	for _, e := range evs {
		// A tombstone's value is the zero value, which the partitioner sees.
		want = append(want, rec[string, int64]{Key: e.key, Value: e.value, TS: e.ts, Tombstone: e.tombstone, Partition: byValue(e.key, e.value, 4)})
	}
	checkRecords(t, "out", streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll(), want)
}

func TestRepartitionProcessesRecordsInTheTaskOfTheirKeyInOrder(t *testing.T) {
	// Each record fans out to up to three records with different keys, so
	// one piped record sends several to the repartition topic: they must
	// come out in the order they were sent.
	newKeys := func(v int64) []string {
		var ks []string
		for i := range (v%4 + 4) % 4 {
			ks = append(ks, fmt.Sprint("r", (v+i*5)%7))
		}
		return ks
	}
	b := stream.NewBuilder("rep")
	src := stream.From(b, "in", serde.String, serde.Int64)
	fanned := stream.FlatMap(src, func(_ string, v int64) []stream.KeyValue[string, int64] {
		var out []stream.KeyValue[string, int64]
		for i, k := range newKeys(v) {
			out = append(out, stream.KeyValue[string, int64]{Key: k, Value: v*10 + int64(i)})
		}
		return out
	}, stream.Serdes(serde.String, serde.Int64))
	var wrongTask []string
	checked := stream.Process(fanned.Repartition(stream.Named("rk"), stream.WithPartitions(3)),
		func() stream.Processor[string, int64, string, int64] {
			return &taskCheck{wrong: &wrongTask}
		}, stream.Serdes(serde.String, serde.Int64))
	checked.To("out", nil, nil)
	d := start(t, b, streamtest.Partitions("in", 2), streamtest.Partitions("out", 2))
	evs := randomEvents(9, 300, 9, true)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	var through, out []rec[string, int64]
	for _, e := range evs {
		if e.tombstone {
			continue
		}
		for i, k := range newKeys(e.value) {
			v := e.value*10 + int64(i)
			through = append(through, rec[string, int64]{Key: k, Value: v, TS: e.ts, Partition: partitionOf(serde.String, k, 3)})
			out = append(out, rec[string, int64]{Key: k, Value: v, TS: e.ts, Partition: partitionOf(serde.String, k, 2)})
		}
	}
	checkRecords(t, "rep-rk-repartition", streamtest.Output(d, "rep-rk-repartition", serde.String, serde.Int64).ReadAll(), through)
	checkRecords(t, "out", streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll(), out)
	if len(wrongTask) > 0 {
		t.Fatalf("records processed by the wrong task: %v", wrongTask[:min(5, len(wrongTask))])
	}
}

// taskCheck forwards records, noting those whose key does not belong to
// the partition of the task processing them.
type taskCheck struct {
	pc    *stream.ProcessorContext[string, int64]
	wrong *[]string
}

func (p *taskCheck) Init(pc *stream.ProcessorContext[string, int64]) error { p.pc = pc; return nil }

func (p *taskCheck) Process(r stream.Record[string, int64]) error {
	if want := partitionOf(serde.String, r.Key, 3); p.pc.Partition() != want || p.pc.RecordPartition() != want {
		*p.wrong = append(*p.wrong, fmt.Sprintf("%s in task %s", r.Key, p.pc.TaskID()))
	}
	return p.pc.Forward(r)
}

func (p *taskCheck) Close() error { return nil }
