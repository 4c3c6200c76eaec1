package window_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// This file is the reference the join tests hold eddy's stream–stream
// joins against: the join's definition applied to the whole input at once
// (every pair of records is looked at), with none of the operator's
// machinery — no store, no candidates, no incremental scans.

// side names a join input.
type side int

const (
	left side = iota
	right
)

func (s side) String() string { return [...]string{"left", "right"}[s] }

// joinEvent is one input record of a join test, in arrival order.
type joinEvent struct {
	Side    side
	Key     string
	Keyless bool // piped without a key (partition 0)
	Null    bool // a tombstone
	Value   int64
	TS      int64
}

// joinKind is which join a test runs.
type joinKind int

const (
	inner joinKind = iota
	leftOuter
	fullOuter
)

func (k joinKind) String() string { return [...]string{"inner", "left", "outer"}[k] }

// keeps reports whether the join emits the unmatched records of s.
func (k joinKind) keeps(s side) bool { return k == fullOuter || (k == leftOuter && s == left) }

// joinWin is a join window in milliseconds.
type joinWin struct{ before, after, grace int64 }

// closeAt is when (join time strictly past it) a record's window closes.
func (w joinWin) closeAt(e joinEvent) int64 {
	if e.Side == left {
		return e.TS + w.after + w.grace
	}
	return e.TS + w.before + w.grace
}

// inWindow reports whether a left and a right timestamp join.
func (w joinWin) inWindow(lts, rts int64) bool { return rts >= lts-w.before && rts <= lts+w.after }

// Output values, as the tests' joiners format them: the left record's value
// (or "-") and the right record's (or "-").
func joinedValue(l int64, lok bool, r string, rok bool) string {
	ls, rs := "-", "-"
	if lok {
		ls = fmt.Sprintf("L%d", l)
	}
	if rok {
		rs = r
	}
	return ls + "+" + rs
}

func rightValue(v int64) string { return fmt.Sprintf("R%d", v) }

// outRec formats an output record for comparison.
func outRec(key, value string, ts int64) string { return fmt.Sprintf("%s|%s|%d", key, value, ts) }

// joinReference is the expected outcome of a join over some input.
type joinReference struct {
	// steps[i] are the records the arrival of event i produces, sorted.
	steps [][]string
	// pending are the unmatched results whose windows had not closed by
	// the end of the input (the wall clock closes them), sorted.
	pending []string
	late    []joinEvent // in arrival order
	dropped int
	// What the input exercises, so that a test can refuse input that
	// would not test a rule.
	pairs, unmatched, keylessOut, closedPartner int
}

// referenceJoin computes a join from its definition. Each partition has
// its own time: τ(i), the largest timestamp of the partition's events up
// to and including event i (tombstones and keyless records included). An
// event with a null value is dropped; a keyless one is dropped, or
// unmatched at once on a side the join keeps; one with τ(i) > close(i) is
// late. Two other events of opposite sides, same key and timestamps in the
// window join, when the later of them (a) arrives, if the earlier one (b)
// was still open: τ(a) <= close(b). An event of a kept side that joins
// nothing is emitted unmatched by the first event a after it in its
// partition with τ(a) > close, or is still pending at the end.
func referenceJoin(evs []joinEvent, parts int32, kind joinKind, w joinWin) *joinReference {
	ref := &joinReference{steps: make([][]string, len(evs))}
	part := make([]int32, len(evs))
	tau := make([]int64, len(evs))
	cur := map[int32]int64{}
	for i, e := range evs {
		if !e.Keyless {
			part[i] = partitionOf(e.Key, parts)
		}
		if t, ok := cur[part[i]]; !ok || e.TS > t {
			cur[part[i]] = e.TS
		}
		tau[i] = cur[part[i]]
	}
	active := map[string][]int{} // key → indexes of events that can join
	for i, e := range evs {
		switch {
		case e.Null:
			ref.dropped++
		case e.Keyless && kind.keeps(e.Side):
			ref.steps[i] = append(ref.steps[i], outRec("", unmatchedValue(e), e.TS))
			ref.keylessOut++
		case e.Keyless:
			ref.dropped++
		case e.TS < 0 || tau[i] > w.closeAt(e):
			ref.late = append(ref.late, e)
		default:
			active[e.Key] = append(active[e.Key], i)
		}
	}
	matched := map[int]bool{}
	for key, idx := range active {
		for _, i := range idx {
			for _, j := range idx {
				l, r := evs[i], evs[j]
				if l.Side != left || r.Side != right || !w.inWindow(l.TS, r.TS) {
					continue
				}
				a, b := max(i, j), min(i, j)
				if tau[a] > w.closeAt(evs[b]) {
					ref.closedPartner++
					continue
				}
				matched[i], matched[j] = true, true
				ref.pairs++
				ref.steps[a] = append(ref.steps[a], outRec(key, joinedValue(l.Value, true, rightValue(r.Value), true), max(l.TS, r.TS)))
			}
		}
	}
	for _, idx := range active {
		for _, i := range idx {
			e := evs[i]
			if matched[i] || !kind.keeps(e.Side) {
				continue
			}
			ref.unmatched++
			out := outRec(e.Key, unmatchedValue(e), e.TS)
			a := i + 1
			for a < len(evs) && (part[a] != part[i] || tau[a] <= w.closeAt(e)) {
				a++
			}
			if a == len(evs) {
				ref.pending = append(ref.pending, out)
			} else {
				ref.steps[a] = append(ref.steps[a], out)
			}
		}
	}
	for _, s := range ref.steps {
		slices.Sort(s)
	}
	slices.Sort(ref.pending)
	return ref
}

// unmatchedValue is the result of an event that joined nothing.
func unmatchedValue(e joinEvent) string {
	if e.Side == left {
		return joinedValue(e.Value, true, "", false)
	}
	return joinedValue(0, false, rightValue(e.Value), true)
}

// randomJoinEvents returns n events over keys k0..k(keys-1) on both sides,
// in arrival order: a clock moves forward by up to step (with an
// occasional pause of pause), and each event's timestamp lags it by a
// delay mostly under grace, sometimes up to span, and sometimes far beyond
// (late records). About one in a hundred events is a tombstone and one in
// a hundred has no key. Values are the events' arrival indexes.
func randomJoinEvents(seed uint64, n, keys int, step, pause, grace, span time.Duration) []joinEvent {
	r := rand.New(rand.NewPCG(seed, seed*17+3))
	clock := base
	evs := make([]joinEvent, n)
	for i := range evs {
		clock += r.Int64N(step.Milliseconds() + 1)
		if r.IntN(25) == 0 {
			clock += pause.Milliseconds()
		}
		var delay int64
		switch p := r.IntN(100); {
		case p < 80:
			delay = r.Int64N(grace.Milliseconds() + 1)
		case p < 95:
			delay = r.Int64N(span.Milliseconds() + 1)
		default:
			delay = r.Int64N(3*(span+grace).Milliseconds() + 1)
		}
		// Timestamps on a 100 ms grid, or a millisecond off it: records
		// often sit exactly on each other's window edges.
		ts := clock - delay
		ts = ts - ts%100 + r.Int64N(3) - 1
		e := joinEvent{Side: side(r.IntN(2)), Key: fmt.Sprintf("k%d", r.IntN(keys)), Value: int64(i), TS: ts}
		switch r.IntN(100) {
		case 0:
			e.Null = true
		case 1:
			e.Keyless, e.Key = true, ""
		}
		evs[i] = e
	}
	return evs
}
