package window_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g stream.Grouped[string, int64])
		want  string
	}{
		{"zero size", func(g stream.Grouped[string, int64]) { window.Count(g, window.Tumbling(0)) }, "at least 1ms"},
		{"advance beyond size", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Hopping(time.Second, 2*time.Second))
		}, "advance must be between"},
		{"negative grace", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Session(time.Second).Grace(-time.Second))
		}, "negative grace"},
		{"short retention", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Tumbling(time.Minute).Grace(time.Second), window.Retention(time.Minute))
		}, "retention 1m0s is below the 1m1s"},
		{"short session retention", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Session(time.Minute), window.Retention(time.Minute))
		}, "below the 2m0s"},
		{"nil windows", func(g stream.Grouped[string, int64]) { window.Count(g, nil) }, "no window definition"},
		{"sessions without merger", func(g stream.Grouped[string, int64]) {
			window.Aggregate(g, window.Session(time.Second), func() int64 { return 0 },
				func(_ string, v, acc int64) int64 { return acc + v }, serde.Int64)
		}, "use AggregateSessions"},
		{"late handler of other types", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Tumbling(time.Second), window.OnLate(func(string, string, int64) {}))
		}, "OnLate handler func(string, string, int64) does not match"},
		{"negative idle", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Tumbling(time.Second), window.CloseIdleAfter(-time.Second))
		}, "CloseIdleAfter -1s: want 0 (off) or at least 1ms"},
		{"two stores, one name", func(g stream.Grouped[string, int64]) {
			window.Count(g, window.Tumbling(time.Second), window.Named("w"))
			window.Count(g, window.Tumbling(time.Minute), window.Named("w"))
		}, `two stores are named "w"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := stream.NewBuilder("errors")
			c.build(stream.From(b, "in", serde.String, serde.Int64).GroupByKey())
			if _, err := streamtest.New(b); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// Sliding windows and LateTo need the values' serde.
func TestValueSerdeRequired(t *testing.T) {
	for _, opt := range []struct {
		name string
		w    window.Windows
		opts []window.Option
		want string
	}{
		{"sliding", window.Sliding(time.Second), nil, "needs a value serde"},
		{"late topic", window.Tumbling(time.Second), []window.Option{window.LateTo("late")}, "LateTo(late)"},
	} {
		t.Run(opt.name, func(t *testing.T) {
			b := stream.NewBuilder("serdes")
			in := stream.From(b, "in", serde.String, serde.Int64)
			halves := stream.MapValues(in, func(_ string, v int64) float64 { return float64(v) / 2 }) // no serde given
			window.Count(halves.GroupByKey(), opt.w, opt.opts...)
			if err := b.Err(); err == nil || !strings.Contains(err.Error(), opt.want) {
				t.Fatalf("error %v, want one containing %q", err, opt.want)
			}
		})
	}
}

func TestLateRecordsGoToTheLateTopic(t *testing.T) {
	const grace = time.Second
	evs := randomEvents(9, 800, 4, 400*time.Millisecond, 5*time.Second, grace, 5*time.Second)
	ref := referenceTime(evs, parts, 5*time.Second, 5*time.Second, grace)
	r := start(t, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
		return window.Count(g, window.Tumbling(5*time.Second).Grace(grace), opts...)
	}, serde.Int64, []window.Option{window.LateTo("late")})
	r.pipe(t, evs)
	r.checkLate(t, ref)
	got := streamtest.Output(r.d, "late", serde.String, serde.Int64).ReadAll()
	if len(got) != len(ref.late) {
		t.Fatalf("%d records on the late topic, want %d", len(got), len(ref.late))
	}
	_, taus := streamTimes(evs, parts)
	lateTime := map[event]int64{}
	for i, e := range evs {
		lateTime[e] = taus[i]
	}
	for i, rec := range got {
		want := ref.late[i]
		if rec.Key != want.Key || rec.Value != want.Value || rec.Timestamp != want.TS {
			t.Fatalf("late record %d: %s=%d at %d, want %+v", i, rec.Key, rec.Value, rec.Timestamp, want)
		}
		h, _ := rec.Header("eddy.late.time")
		if at, err := strconv.ParseInt(string(h), 10, 64); err != nil || at != lateTime[want] {
			t.Fatalf("late record %d: eddy.late.time %q, want %d", i, h, lateTime[want])
		}
		if task, _ := rec.Header("eddy.task"); string(task) != "0_"+strconv.Itoa(int(partitionOf(want.Key, parts))) {
			t.Fatalf("late record %d: eddy.task %q", i, task)
		}
	}
}
