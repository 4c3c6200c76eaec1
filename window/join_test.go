package window_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/window"
)

func pairOf(_ string, l, r int64) string { return fmt.Sprintf("%d+%d", l, r) }

func TestJoinBuildErrors(t *testing.T) {
	w := window.JoinWindows(time.Second)
	cases := []struct {
		name  string
		build func(l, r stream.Stream[string, int64])
		want  string
	}{
		{"negative before", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w.Before(-time.Millisecond), pairOf, serde.String)
		}, "Before and After must not be negative"},
		{"negative after", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w.After(-time.Second), pairOf, serde.String)
		}, "Before and After must not be negative"},
		{"negative grace", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w.Grace(-time.Second), pairOf, serde.String)
		}, "negative grace period"},
		{"emit final", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w, pairOf, serde.String, window.EmitFinal())
		}, "EmitFinal does not apply to joins"},
		{"retention", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w, pairOf, serde.String, window.Retention(time.Hour))
		}, "Retention does not apply to joins"},
		{"negative idle", func(l, r stream.Stream[string, int64]) {
			window.LeftJoin(l, r, w, func(string, int64, int64, bool) string { return "" }, serde.String, window.CloseIdleAfter(-time.Second))
		}, "CloseIdleAfter -1s"},
		{"nil joiner", func(l, r stream.Stream[string, int64]) {
			window.Join[string, int64, int64, string](l, r, w, nil, serde.String)
		}, "nil joiner"},
		{"late handler of other types", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w, pairOf, serde.String, window.OnLate(func(string, bool, int64) {}))
		}, "OnLate handler func(string, bool, int64) matches neither func(string, int64, int64)"},
		{"no value serde", func(l, r stream.Stream[string, int64]) {
			mapped := stream.MapValues(r, func(_ string, v int64) float64 { return float64(v) })
			window.Join(l, mapped, w, func(string, int64, float64) string { return "" }, serde.String)
		}, "the right stream has no value serde"},
		{"two joins, one name", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w, pairOf, serde.String, window.Named("j"))
			window.Join(l, r, w, pairOf, serde.String, window.Named("j"))
		}, `two stores are named "j-this"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := stream.NewBuilder("errors")
			c.build(stream.From(b, "l", serde.String, serde.Int64), stream.From(b, "r", serde.String, serde.Int64))
			if _, err := streamtest.New(b); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// The stores are named after the join, segmented with the window's
// retention, and backed by compact,delete changelogs kept a day longer.
func TestJoinStoresAndChangelogs(t *testing.T) {
	w := window.JoinWindows(time.Minute).Before(30 * time.Second).Grace(10 * time.Second)
	const retention = int64(30_000 + 60_000 + 10_000)
	for _, c := range []struct {
		kind   string
		build  func(l, r stream.Stream[string, int64])
		stores []string
	}{
		{"inner", func(l, r stream.Stream[string, int64]) {
			window.Join(l, r, w, pairOf, serde.String, window.Named("clicks"))
		}, []string{"clicks-this", "clicks-other"}},
		{"left", func(l, r stream.Stream[string, int64]) {
			window.LeftJoin(l, r, w, func(string, int64, int64, bool) string { return "" }, serde.String, window.Named("clicks"))
		}, []string{"clicks-this", "clicks-other", "clicks-outer"}},
	} {
		t.Run(c.kind, func(t *testing.T) {
			b := stream.NewBuilder("app")
			c.build(stream.From(b, "l", serde.String, serde.Int64), stream.From(b, "r", serde.String, serde.Int64))
			if err := b.Err(); err != nil {
				t.Fatal(err)
			}
			topo := b.Internal().Topo
			var names []string
			for name, spec := range topo.Stores {
				names = append(names, name)
				if spec.Segmented == nil || spec.Segmented.Retention != retention {
					t.Errorf("store %s: segmented %+v, want a retention of %d ms", name, spec.Segmented, retention)
				}
				if want := "app-" + name + "-changelog"; spec.Changelog != want {
					t.Errorf("store %s: changelog %q, want %q", name, spec.Changelog, want)
				}
				cfg := topo.InternalTopics[spec.Changelog].Configs
				if cfg["cleanup.policy"] != "compact,delete" || cfg["retention.ms"] != strconv.FormatInt(retention+24*3600*1000, 10) {
					t.Errorf("changelog of %s: %v", name, cfg)
				}
			}
			slices.Sort(names)
			want := slices.Sorted(slices.Values(c.stores))
			if !slices.Equal(names, want) {
				t.Fatalf("stores %v, want %v", names, want)
			}
			if d := b.Describe(); !strings.Contains(d, "clicks (stores: ["+strings.Join(c.stores, ", ")+"])") {
				t.Fatalf("Describe does not show the join's stores:\n%s", d)
			}
		})
	}
}

// joinAll returns the pairs of a symmetric window d over small inputs
// given as key → timestamps, valued by timestamp, as pairOf formats them.
func joinAll(ls, rs map[string][]int64, d int64) []string {
	var out []string
	for k, lts := range ls {
		for _, l := range lts {
			for _, r := range rs[k] {
				if r >= l-d && r <= l+d {
					out = append(out, k+"="+pairOf(k, l, r))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// A re-keyed side goes through a repartition topic sized like the other
// side's input; both re-keyed, the right one is sized like the left one's.
// Records then meet whatever partitions they came from.
func TestJoinRepartitionsRekeyedSides(t *testing.T) {
	// Values are timestamps; a re-keyed record's key comes from it.
	rekey := func(_ string, v int64) (string, int64) { return fmt.Sprint("k", v%5), v }
	for _, c := range []struct {
		name                  string
		rekeyLeft, rekeyRight bool
		lparts, rparts, want  int32
	}{
		{"right", false, true, 3, 2, 3},
		{"left", true, false, 2, 4, 4},
		{"both", true, true, 2, 3, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := stream.NewBuilder("app")
			l := stream.From(b, "l", serde.String, serde.Int64)
			r := stream.From(b, "r", serde.String, serde.Int64)
			if c.rekeyLeft {
				l = stream.Map(l, rekey, stream.Serdes(serde.String, serde.Int64))
			}
			if c.rekeyRight {
				r = stream.Map(r, rekey, stream.Serdes(serde.String, serde.Int64))
			}
			window.Join(l, r, window.JoinWindows(100*time.Millisecond), pairOf, serde.String, window.Named("j")).To("out", nil, nil)
			d, err := streamtest.New(b, streamtest.Partitions("l", c.lparts), streamtest.Partitions("r", c.rparts))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			ins := []*streamtest.InputTopic[string, int64]{streamtest.Input(d, "l", serde.String, serde.Int64), streamtest.Input(d, "r", serde.String, serde.Int64)}
			rekeyed := []bool{c.rekeyLeft, c.rekeyRight}
			seen := []map[string][]int64{{}, {}} // the keys the join sees
			for i := range int64(60) {
				ts, s := 1000+i*13, i%2 // in order: nothing is late
				key := fmt.Sprint("k", i%5)
				if rekeyed[s] {
					seen[s][fmt.Sprint("k", ts%5)] = append(seen[s][fmt.Sprint("k", ts%5)], ts)
					key = fmt.Sprint("orig", i%7) // partitioned unlike the key the join sees
				} else {
					seen[s][key] = append(seen[s][key], ts)
				}
				if err := ins[s].PipeAt(key, ts, ts); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, rec := range streamtest.Output(d, "out", serde.String, serde.String).ReadAll() {
				got = append(got, rec.Key+"="+rec.Value)
			}
			slices.Sort(got)
			if want := joinAll(seen[0], seen[1], 100); len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("joined %v\nwant %v", got, want)
			}
			for s, side := range []string{"left", "right"} {
				if !rekeyed[s] {
					continue
				}
				topic := "app-j-" + side + "-repartition"
				recs := streamtest.Output(d, topic, serde.String, serde.Int64).ReadAll()
				if len(recs) == 0 {
					t.Fatalf("nothing went through %s", topic)
				}
				for _, rec := range recs {
					if p := partitionOf(rec.Key, c.want); rec.Partition != p {
						t.Fatalf("%s: key %s on partition %d, want %d of %d", topic, rec.Key, rec.Partition, p, c.want)
					}
				}
			}
		})
	}
}

// Inputs of different partition counts that keep their keys cannot meet
// equal keys in one task: the app refuses to start, naming both.
func TestJoinOfDifferentPartitionCountsIsRefused(t *testing.T) {
	b := stream.NewBuilder("app")
	l := stream.From(b, "l", serde.String, serde.Int64)
	r := stream.From(b, "r", serde.String, serde.Int64)
	window.Join(l, r, window.JoinWindows(time.Second), pairOf, serde.String).To("out", nil, nil)
	_, err := streamtest.New(b, streamtest.Partitions("l", 2), streamtest.Partitions("r", 3))
	if !errors.Is(err, engine.ErrCopartition) || !strings.Contains(err.Error(), "l has 2") || !strings.Contains(err.Error(), "r has 3") {
		t.Fatalf("error %v, want ErrCopartition naming both topics", err)
	}
}

// A stream joined with itself: each record meets itself and every record
// of its key within the window, once from each side.
func TestSelfJoin(t *testing.T) {
	b := stream.NewBuilder("app")
	s := stream.From(b, "in", serde.String, serde.Int64)
	window.Join(s, s, window.JoinWindows(time.Second), pairOf, serde.String, window.Named("self")).To("out", nil, nil)
	d, err := streamtest.New(b)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	for _, ts := range []int64{0, 500, 2000} {
		if err := in.PipeAt("k", ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range streamtest.Output(d, "out", serde.String, serde.String).ReadAll() {
		got = append(got, r.Value)
	}
	want := []string{"0+0", "500+0", "0+500", "500+500", "2000+2000"}
	if !slices.Equal(got, want) {
		t.Fatalf("self-join gave %v, want %v", got, want)
	}
}

// LateTo writes late records of both sides, with their own serdes, and
// headers naming the join's time, the task and the side.
func TestJoinLateTo(t *testing.T) {
	b := stream.NewBuilder("app")
	l := stream.From(b, "l", serde.String, serde.Int64)
	r := stream.From(b, "r", serde.String, serde.String)
	window.Join(l, r, window.JoinWindows(time.Second).Grace(time.Second), func(_ string, lv int64, rv string) string {
		return fmt.Sprint(lv, rv)
	}, serde.String, window.Named("j"), window.LateTo("late")).To("out", nil, nil)
	d, err := streamtest.New(b)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lin, rin := streamtest.Input(d, "l", serde.String, serde.Int64), streamtest.Input(d, "r", serde.String, serde.String)
	steps := []error{
		lin.PipeAt("a", 1, 10_000),
		lin.PipeAt("a", 2, 7_999),   // closes at 9 999: late
		rin.PipeAt("b", "y", 8_000), // closes at 10 000: on time
		rin.PipeAt("a", "x", 9_500), // joins 1
		rin.PipeAt("b", "y", 7_000), // late
		lin.PipeAt("a", 3, -1),      // negative: late
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}
	outs := streamtest.Output(d, "out", serde.String, serde.String).ReadAll()
	if len(outs) != 1 || outs[0].Value != "1x" || outs[0].Timestamp != 10_000 {
		t.Fatalf("joined %+v, want 1x at 10000", outs)
	}
	var got []string
	for _, rec := range streamtest.Output(d, "late", serde.String, serde.Bytes).ReadAll() {
		at, _ := rec.Header("eddy.late.time")
		side, _ := rec.Header("eddy.join.side")
		task, _ := rec.Header("eddy.task")
		got = append(got, fmt.Sprintf("%s %s %x @%d time=%s task=%s", side, rec.Key, rec.Value, rec.Timestamp, at, task))
	}
	want := []string{
		"left a 0000000000000002 @7999 time=10000 task=0_0",
		"right b 79 @7000 time=10000 task=0_0",
		"left a 0000000000000003 @-1 time=10000 task=0_0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("late topic:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := window.JoinLateRecords(d.App(), "j"); n != 3 {
		t.Fatalf("JoinLateRecords = %d, want 3", n)
	}
}

// CloseIdleAfter(0) turns the wall-clock close off: a left join's
// unmatched records then wait for a record to move time on.
func TestLeftJoinWithoutIdleClose(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []window.Option
		want int // unmatched records after an hour of wall clock
	}{
		{"default", nil, 1},
		{"off", []window.Option{window.CloseIdleAfter(0)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := stream.NewBuilder("app")
			l := stream.From(b, "l", serde.String, serde.Int64)
			r := stream.From(b, "r", serde.String, serde.Int64)
			window.LeftJoin(l, r, window.JoinWindows(time.Second), func(_ string, lv, _ int64, ok bool) string {
				return fmt.Sprint(lv, ok)
			}, serde.String, c.opts...).To("out", nil, nil)
			d, err := streamtest.New(b)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			out := streamtest.Output(d, "out", serde.String, serde.String)
			lin := streamtest.Input(d, "l", serde.String, serde.Int64)
			if err := lin.PipeAt("a", 1, 5_000); err != nil {
				t.Fatal(err)
			}
			if err := d.AdvanceWallClock(time.Hour); err != nil {
				t.Fatal(err)
			}
			if got := out.ReadAll(); len(got) != c.want {
				t.Fatalf("%d records after the wall clock moved, want %d: %+v", len(got), c.want, got)
			}
			if err := lin.PipeAt("b", 2, 6_001); err != nil { // a's window closed at 6 000
				t.Fatal(err)
			}
			if got := out.ReadAll(); len(got) != 1-c.want || (c.want == 0 && got[0].Value != "1 false") {
				t.Fatalf("after a record moved time on: %+v", got)
			}
		})
	}
}
