package window_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/window"
)

// These tests pipe a few thousand out-of-order records over eight keys,
// two sides and two partitions — late records, tombstones and keyless
// records among them — through each kind of join, and compare, after
// every record, what the join emits with what the reference of
// join_model_test.go says that record produces: joined pairs, and the
// unmatched records whose windows it closes. Then the wall clock closes
// what the input left open, and the late records handed to OnLate and
// counted are compared too.

// joinRun is a join run over events by the test driver.
type joinRun struct {
	d    *streamtest.Driver
	out  *streamtest.OutputTopic[string, string]
	late []joinEvent
}

// startJoin builds "left" (string → int64) and "right" (string → string),
// both with two partitions, joined by kind into "out", and a driver for
// it. The join is named "j"; its OnLate handlers, one per side, collect
// the late records.
func startJoin(t *testing.T, kind joinKind, w window.JoinWindow, opts []window.Option, dopts ...streamtest.Option) *joinRun {
	t.Helper()
	run := &joinRun{}
	b := stream.NewBuilder("joins")
	l := stream.From(b, "left", serde.String, serde.Int64)
	r := stream.From(b, "right", serde.String, serde.String)
	opts = append([]window.Option{window.Named("j"),
		window.OnLate(func(k string, v int64, ts int64) {
			run.late = append(run.late, joinEvent{Side: left, Key: k, Value: v, TS: ts})
		}),
		window.OnLate(func(k string, v string, ts int64) {
			n, _ := strconv.ParseInt(v[1:], 10, 64)
			run.late = append(run.late, joinEvent{Side: right, Key: k, Value: n, TS: ts})
		}),
	}, opts...)
	var out stream.Stream[string, string]
	switch kind {
	case inner:
		out = window.Join(l, r, w, func(_ string, lv int64, rv string) string { return joinedValue(lv, true, rv, true) }, serde.String, opts...)
	case leftOuter:
		out = window.LeftJoin(l, r, w, func(_ string, lv int64, rv string, ok bool) string { return joinedValue(lv, true, rv, ok) }, serde.String, opts...)
	case fullOuter:
		out = window.OuterJoin(l, r, w, joinedValue4, serde.String, opts...)
	}
	out.To("out", nil, nil)
	d, err := streamtest.New(b, append([]streamtest.Option{streamtest.Partitions("left", parts), streamtest.Partitions("right", parts)}, dopts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil && d.Err() == nil {
			t.Errorf("close: %v", err)
		}
	})
	run.d = d
	run.out = streamtest.Output(d, "out", serde.String, serde.String)
	return run
}

func joinedValue4(_ string, lv int64, lok bool, rv string, rok bool) string {
	return joinedValue(lv, lok, rv, rok)
}

// pipe sends one event to its side's topic.
func (run *joinRun) pipe(e joinEvent) error {
	at := time.UnixMilli(e.TS)
	if e.Side == left {
		in := streamtest.Input(run.d, "left", serde.String, serde.Int64)
		switch {
		case e.Null:
			return in.PipeTombstone(e.Key, at)
		case e.Keyless:
			return in.PipeValue(e.Value, at)
		}
		return in.PipeAt(e.Key, e.Value, e.TS)
	}
	in := streamtest.Input(run.d, "right", serde.String, serde.String)
	switch {
	case e.Null:
		return in.PipeTombstone(e.Key, at)
	case e.Keyless:
		return in.PipeValue(rightValue(e.Value), at)
	}
	return in.PipeAt(e.Key, rightValue(e.Value), e.TS)
}

// readOut returns the records written to "out" since the last read,
// formatted and sorted.
func (run *joinRun) readOut(t *testing.T) []string {
	t.Helper()
	var got []string
	for _, r := range run.out.ReadAll() {
		got = append(got, outRec(r.Key, r.Value, r.Timestamp))
	}
	if err := run.out.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// testJoin runs a join over evs and checks it step by step against the
// reference, then checks the late and dropped records, then closes every
// window on the wall clock and checks the unmatched records left.
func testJoin(t *testing.T, evs []joinEvent, kind joinKind, w window.JoinWindow, ref *joinReference, dopts ...streamtest.Option) {
	run := startJoin(t, kind, w, nil, dopts...)
	for i, e := range evs {
		if err := run.pipe(e); err != nil {
			t.Fatalf("event %d %+v: %v", i, e, err)
		}
		if got := run.readOut(t); !slices.Equal(got, ref.steps[i]) {
			t.Fatalf("event %d %+v produced\n %v\nwant\n %v", i, e, got, ref.steps[i])
		}
	}
	if !slices.Equal(run.late, ref.late) {
		t.Fatalf("late records: %d, want %d\n got %v\nwant %v", len(run.late), len(ref.late), head(run.late), head(ref.late))
	}
	app := run.d.App()
	if n := window.JoinLateRecords(app, "j"); n != int64(len(ref.late)) {
		t.Fatalf("JoinLateRecords = %d, want %d", n, len(ref.late))
	}
	if n := window.JoinDroppedRecords(app, "j"); n != int64(ref.dropped) {
		t.Fatalf("JoinDroppedRecords = %d, want %d", n, ref.dropped)
	}
	if err := run.d.AdvanceWallClock(closeEverything); err != nil {
		t.Fatal(err)
	}
	if got := run.readOut(t); !slices.Equal(got, ref.pending) {
		t.Fatalf("after the idle close: %d records, want %d\n got %v\nwant %v", len(got), len(ref.pending), head(got), head(ref.pending))
	}
}

// checkCoverage refuses input that would leave a rule of the join
// untested.
func checkCoverage(t *testing.T, kind joinKind, ref *joinReference) {
	t.Helper()
	t.Logf("%s join: %d pairs, %d unmatched (%d pending at the end), %d keyless, %d late, %d dropped, %d pairs refused by a closed window",
		kind, ref.pairs, ref.unmatched, len(ref.pending), ref.keylessOut, len(ref.late), ref.dropped, ref.closedPartner)
	if ref.pairs == 0 || len(ref.late) == 0 || ref.dropped == 0 || ref.closedPartner == 0 {
		t.Fatal("the input lacks pairs, late records, dropped records or pairs refused by a closed window")
	}
	if kind != inner && (ref.unmatched == 0 || len(ref.pending) == 0 || ref.keylessOut == 0 || ref.unmatched == len(ref.pending)) {
		t.Fatal("the input lacks unmatched records closed by the input, by the wall clock, or keyless ones")
	}
}

func TestJoinsMatchReference(t *testing.T) {
	const grace = 1500 * time.Millisecond
	w := window.JoinWindows(3 * time.Second).Before(2 * time.Second).Grace(grace)
	win := joinWin{before: 2000, after: 3000, grace: grace.Milliseconds()}
	evs := randomJoinEvents(7, 3000, nKeys, 400*time.Millisecond, 10*time.Second, grace, 5*time.Second)

	t.Run("inner", func(t *testing.T) {
		ref := referenceJoin(evs, parts, inner, win)
		checkCoverage(t, inner, ref)
		testJoin(t, evs, inner, w, ref)
	})
	t.Run("left", func(t *testing.T) {
		ref := referenceJoin(evs, parts, leftOuter, win)
		checkCoverage(t, leftOuter, ref)
		testJoin(t, evs, leftOuter, w, ref)
	})
	t.Run("left/leveldb", func(t *testing.T) {
		// Fewer records: every few minutes of event time opens a LevelDB
		// segment per store and task.
		evs := evs[:800]
		ref := referenceJoin(evs, parts, leftOuter, win)
		checkCoverage(t, leftOuter, ref)
		testJoin(t, evs, leftOuter, w, ref, streamtest.StateDir(t.TempDir()))
	})
	t.Run("outer/small-cache", func(t *testing.T) {
		// Commits only when the caches fill (a few entries each): reads
		// and deletes go through caches that are mostly dirty.
		ref := referenceJoin(evs, parts, fullOuter, win)
		checkCoverage(t, fullOuter, ref)
		testJoin(t, evs, fullOuter, w, ref, streamtest.ManualCommit(),
			streamtest.AppConfig(stream.Config{CacheMaxBytes: 6 * 1024}))
	})
}

// A window open after a record only (Before(0)) and one open before it
// only (After(0)), without grace: every pair is decided by its edges.
func TestOneSidedJoinWindowsMatchReference(t *testing.T) {
	evs := randomJoinEvents(8, 2000, 4, 300*time.Millisecond, 5*time.Second, 500*time.Millisecond, 3*time.Second)
	for _, c := range []struct {
		name string
		w    window.JoinWindow
		win  joinWin
	}{
		{"after", window.JoinWindows(2 * time.Second).Before(0), joinWin{after: 2000}},
		{"before", window.JoinWindows(2 * time.Second).After(0), joinWin{before: 2000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref := referenceJoin(evs, parts, fullOuter, c.win)
			checkCoverage(t, fullOuter, ref)
			testJoin(t, evs, fullOuter, c.w, ref)
		})
	}
}
