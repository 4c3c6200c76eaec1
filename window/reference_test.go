package window_test

import (
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// These tests pipe a few thousand out-of-order records over eight keys and
// two partitions, with delays beyond the grace period, and compare what
// eddy emits with the reference computation of model_test.go: under
// emit-on-update the last value of each window, under EmitFinal each
// window exactly once, at the end of the input those whose close time has
// passed and, after the wall clock closes the idle partitions, all of them;
// in both cases the late records handed to OnLate and counted.

const (
	nEvents = 3000
	nKeys   = 8
)

func appendValue(_ string, v int64, acc []int64) []int64 { return append(acc, v) }

func noValues() []int64 { return nil }

func sum(vs []int64) int64 {
	var s int64
	for _, v := range vs {
		s += v
	}
	return s
}

// testUpdates runs an emit-on-update aggregation against the reference.
func testUpdates[A any](t *testing.T, evs []event, ref *reference, agg aggregation[A], as serde.Serde[A], val value[A]) {
	r := start(t, agg, as, nil)
	r.pipe(t, evs)
	r.checkUpdates(t, ref, val)
	r.checkLate(t, ref)
}

// testFinal runs an EmitFinal aggregation against the reference, then lets
// the wall clock close what the input left open.
func testFinal[A any](t *testing.T, evs []event, ref *reference, agg aggregation[A], as serde.Serde[A], val value[A]) {
	r := start(t, agg, as, []window.Option{window.EmitFinal()})
	r.pipe(t, evs)
	seen := map[window.Key[string]]bool{}
	r.checkFinal(t, ref, val, false, seen)
	r.checkLate(t, ref)
	if len(seen) == len(ref.windows) {
		t.Fatal("every window closed with the input: the idle close is not tested")
	}
	if err := r.d.AdvanceWallClock(closeEverything); err != nil {
		t.Fatal(err)
	}
	r.checkFinal(t, ref, val, true, seen)
	if len(seen) != len(ref.windows) {
		t.Fatalf("%d windows emitted, want %d", len(seen), len(ref.windows))
	}
}

func TestTimeWindowsMatchReference(t *testing.T) {
	const grace = 2 * time.Second
	tumbling := window.Tumbling(5 * time.Second).Grace(grace)
	hopping := window.Hopping(10*time.Second, 3*time.Second).Grace(grace)
	evs := randomEvents(1, nEvents, nKeys, 400*time.Millisecond, 10*time.Second, grace, 10*time.Second)
	tumblingRef := referenceTime(evs, parts, 5*time.Second, 5*time.Second, grace)
	hoppingRef := referenceTime(evs, parts, 10*time.Second, 3*time.Second, grace)

	t.Run("tumbling/count/update", func(t *testing.T) {
		testUpdates(t, evs, tumblingRef, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, tumbling, opts...)
		}, serde.Int64, count)
	})
	t.Run("tumbling/aggregate/final", func(t *testing.T) {
		testFinal(t, evs, tumblingRef, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], []int64] {
			return window.Aggregate(g, tumbling, noValues, appendValue, serde.JSON[[]int64](), opts...)
		}, serde.JSON[[]int64](), list)
	})
	t.Run("hopping/count/final", func(t *testing.T) {
		testFinal(t, evs, hoppingRef, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, hopping, opts...)
		}, serde.Int64, count)
	})
	t.Run("hopping/aggregate/update", func(t *testing.T) {
		testUpdates(t, evs, hoppingRef, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], []int64] {
			return window.Aggregate(g, hopping, noValues, appendValue, serde.JSON[[]int64](), opts...)
		}, serde.JSON[[]int64](), list)
	})
	t.Run("hopping/reduce/update", func(t *testing.T) {
		testUpdates(t, evs, hoppingRef, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Reduce(g, hopping, func(a, b int64) int64 { return a + b }, opts...)
		}, serde.Int64, sum)
	})
}

func TestSlidingWindowsMatchReference(t *testing.T) {
	const grace, diff = 2 * time.Second, 5 * time.Second
	sliding := window.Sliding(diff).Grace(grace)
	evs := randomEvents(2, nEvents, nKeys, 400*time.Millisecond, 10*time.Second, grace, diff)
	ref := referenceSliding(evs, parts, diff, grace)

	t.Run("count/update", func(t *testing.T) {
		testUpdates(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, sliding, opts...)
		}, serde.Int64, count)
	})
	t.Run("aggregate/final", func(t *testing.T) {
		testFinal(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], []int64] {
			return window.Aggregate(g, sliding, noValues, appendValue, serde.JSON[[]int64](), opts...)
		}, serde.JSON[[]int64](), list)
	})
	t.Run("reduce/final", func(t *testing.T) {
		testFinal(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Reduce(g, sliding, func(a, b int64) int64 { return a + b }, opts...)
		}, serde.Int64, sum)
	})
}

func TestSessionWindowsMatchReference(t *testing.T) {
	const grace, gap = 2 * time.Second, 3 * time.Second
	sessions := window.Session(gap).Grace(grace)
	// Records of a key come every 3.2 s on average, about the gap: sessions
	// form, grow, merge and split.
	evs := randomEvents(3, nEvents, nKeys, 800*time.Millisecond, 20*time.Second, grace, 4*time.Second)
	ref := referenceSessions(evs, parts, gap, grace)

	t.Run("count/update", func(t *testing.T) {
		testUpdates(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, sessions, opts...)
		}, serde.Int64, count)
	})
	t.Run("aggregate/final", func(t *testing.T) {
		testFinal(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], []int64] {
			return window.AggregateSessions(g, sessions, noValues, appendValue,
				func(_ string, a, b []int64) []int64 { return append(append([]int64(nil), a...), b...) },
				serde.JSON[[]int64](), opts...)
		}, serde.JSON[[]int64](), list)
	})
	t.Run("reduce/update", func(t *testing.T) {
		testUpdates(t, evs, ref, func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Reduce(g, sessions, func(a, b int64) int64 { return a + b }, opts...)
		}, serde.Int64, sum)
	})
}
