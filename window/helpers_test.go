package window_test

import (
	"cmp"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

const parts = 2

// aggregation builds a windowed aggregation of the test topology; opts
// carry the name, the late handler and the emit strategy.
type aggregation[A any] func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], A]

// run is a windowed aggregation run over events by the test driver.
type run[A any] struct {
	d    *streamtest.Driver
	tbl  table.Table[window.Key[string], A]
	out  *streamtest.OutputTopic[window.Key[string], A]
	late []event
}

// start builds "in" (two partitions) → GroupByKey → agg → "out" and a
// driver for it.
func start[A any](t *testing.T, agg aggregation[A], as serde.Serde[A], opts []window.Option, dopts ...streamtest.Option) *run[A] {
	t.Helper()
	r := &run[A]{}
	b := stream.NewBuilder("windows")
	g := stream.From(b, "in", serde.String, serde.Int64).GroupByKey()
	opts = append([]window.Option{window.Named("w"), window.OnLate(func(k string, v int64, ts int64) {
		r.late = append(r.late, event{Key: k, Value: v, TS: ts})
	})}, opts...)
	r.tbl = agg(g, opts...)
	r.tbl.ToStream().To("out", nil, nil)
	d, err := streamtest.New(b, append([]streamtest.Option{streamtest.Partitions("in", parts)}, dopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil && d.Err() == nil {
			t.Errorf("close: %v", err)
		}
	})
	r.d = d
	r.out = streamtest.Output(d, "out", window.KeySerde(serde.String), as)
	return r
}

func (r *run[A]) pipe(t *testing.T, evs []event) {
	t.Helper()
	in := streamtest.Input(r.d, "in", serde.String, serde.Int64)
	for i, e := range evs {
		if err := in.PipeAt(e.Key, e.Value, e.TS); err != nil {
			t.Fatalf("event %d %+v: %v", i, e, err)
		}
	}
}

// checkLate compares the late records handed to OnLate, and the count,
// with the reference's.
func (r *run[A]) checkLate(t *testing.T, ref *reference) {
	t.Helper()
	if len(ref.late) == 0 {
		t.Fatal("the input has no late records: the test would not test them")
	}
	if !slices.Equal(r.late, ref.late) {
		t.Fatalf("late records: %d, want %d\n got %v\nwant %v", len(r.late), len(ref.late), head(r.late), head(ref.late))
	}
	n, err := window.LateRecords(r.d.App(), r.tbl)
	if err != nil || n != int64(len(ref.late)) {
		t.Fatalf("LateRecords = %d, %v; want %d", n, err, len(ref.late))
	}
}

func head[T any](s []T) []T { return s[:min(len(s), 10)] }

// value turns the reference's values of a window into the aggregate.
type value[A any] func(vs []int64) A

func count(vs []int64) int64  { return int64(len(vs)) }
func list(vs []int64) []int64 { return vs }

// checkUpdates checks emit-on-update output: each window's last record
// (tombstones deleting) is the reference's final aggregate, with the
// timestamp of the window's newest record.
func (r *run[A]) checkUpdates(t *testing.T, ref *reference, val value[A]) {
	t.Helper()
	type last struct {
		v  A
		ts int64
	}
	got := map[window.Key[string]]last{}
	for _, rec := range r.out.ReadAll() {
		if rec.Tombstone {
			delete(got, rec.Key)
			continue
		}
		got[rec.Key] = last{rec.Value, rec.Timestamp}
	}
	if err := r.out.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[window.Key[string]]last{}
	for k, w := range ref.windows {
		want[k] = last{val(w.Values), w.MaxTS}
	}
	compareMaps(t, "latest per window", got, want)
}

// checkFinal checks the EmitFinal output written since the last check:
// exactly the windows the reference has closed by each partition's final
// stream time (or, with all, every window) that were not emitted before,
// each once, with its final aggregate and the timestamp of its newest
// record, in order of close time within a partition. seen collects the
// windows emitted across checks.
func (r *run[A]) checkFinal(t *testing.T, ref *reference, val value[A], all bool, seen map[window.Key[string]]bool) {
	t.Helper()
	before := maps.Clone(seen)
	got := map[window.Key[string]]A{}
	lastClose := map[int32]int64{}
	for _, rec := range r.out.ReadAll() {
		if rec.Tombstone {
			t.Fatalf("EmitFinal forwarded a tombstone for %v", rec.Key)
		}
		if seen[rec.Key] {
			t.Fatalf("window %v emitted twice", rec.Key)
		}
		seen[rec.Key] = true
		got[rec.Key] = rec.Value
		w := ref.windows[rec.Key]
		if w == nil {
			t.Fatalf("emitted %v = %v, which the reference does not have", rec.Key, rec.Value)
		}
		if w.CloseAt < lastClose[w.Partition] {
			t.Fatalf("window %v (closing at %d) emitted after one closing at %d", rec.Key, w.CloseAt, lastClose[w.Partition])
		}
		lastClose[w.Partition] = w.CloseAt
		if rec.Timestamp != w.MaxTS {
			t.Fatalf("window %v emitted with timestamp %d, want %d", rec.Key, rec.Timestamp, w.MaxTS)
		}
	}
	if err := r.out.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[window.Key[string]]A{}
	for k, w := range ref.windows {
		if !before[k] && (all || w.CloseAt <= ref.time[w.Partition]) {
			want[k] = val(w.Values)
		}
	}
	compareMaps(t, "emitted windows", got, want)
}

// compareMaps reports the first few differences between two maps.
func compareMaps[K comparable, V any](t *testing.T, what string, got, want map[K]V) {
	t.Helper()
	var diffs []string
	keys := slices.SortedFunc(maps.Keys(union(got, want)), func(a, b K) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		if gok != wok || !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%v: got %v (%v), want %v (%v)", k, g, gok, w, wok))
		}
	}
	if len(diffs) > 0 {
		t.Fatalf("%s: %d of %d differ (%d got, %d want):\n%v", what, len(diffs), len(keys), len(got), len(want), head(diffs))
	}
}

func union[K comparable, V any](a, b map[K]V) map[K]bool {
	out := map[K]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// closeEverything is wall-clock time enough to close, by CloseIdleAfter,
// every window left open at the end of an input: far more than any window,
// grace and gap of these tests.
const closeEverything = time.Hour
