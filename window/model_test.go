package window_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/window"
)

// This file is the reference the tests hold eddy's windows against: a
// direct computation over the input, written from the package's
// definitions with none of its machinery (no store, no encoding, no
// incremental state beyond each partition's stream time).

// event is one input record.
type event struct {
	Key   string
	Value int64
	TS    int64
}

const base = int64(1_700_000_000_000) // a round Unix ms, far from 0

// randomEvents returns n events over keys k0..k(keys-1), in arrival order:
// a clock moves forward by up to step (with an occasional pause of pause),
// and each event's timestamp lags it by a delay that is mostly under the
// grace period, sometimes up to a window, and sometimes far beyond
// (late records).
func randomEvents(seed uint64, n, keys int, step, pause, grace, window time.Duration) []event {
	r := rand.New(rand.NewPCG(seed, seed*31+7))
	clock := base
	evs := make([]event, n)
	for i := range evs {
		clock += r.Int64N(step.Milliseconds() + 1)
		if r.IntN(20) == 0 {
			clock += pause.Milliseconds()
		}
		var delay int64
		switch p := r.IntN(100); {
		case p < 80:
			delay = r.Int64N(grace.Milliseconds() + 1)
		case p < 95:
			delay = r.Int64N(window.Milliseconds() + 1)
		default:
			delay = r.Int64N(3*(window+grace).Milliseconds() + 1)
		}
		// Timestamps on a 250 ms grid, as time windows' bounds are, or a
		// millisecond off it, as sliding windows' and sessions' ends are
		// (the record after the last): records often fall exactly on a
		// window's edge or close time.
		ts := clock - delay
		ts = ts - ts%250 + r.Int64N(3) - 1
		evs[i] = event{Key: fmt.Sprintf("k%d", r.IntN(keys)), Value: int64(i), TS: ts}
	}
	return evs
}

// partitionOf is the partition Kafka's default partitioner gives a key.
func partitionOf(key string, n int32) int32 {
	kb, _ := serde.String.Serialize("", key)
	return partition.ForKey(kb, n)
}

// refWindow is a window as the reference computes it.
type refWindow struct {
	Values    []int64 // the values aggregated, in the order folded
	MaxTS     int64
	CloseAt   int64 // operator time at which the window closes
	Partition int32
}

// reference is the expected outcome of a windowed aggregation.
type reference struct {
	windows map[window.Key[string]]*refWindow
	late    []event         // late records, in arrival order
	time    map[int32]int64 // each partition's stream time at the end
}

func newReference() *reference {
	return &reference{windows: map[window.Key[string]]*refWindow{}, time: map[int32]int64{}}
}

// streamTimes returns, for each event, its partition and the partition's
// stream time once the event has arrived.
func streamTimes(evs []event, parts int32) ([]int32, []int64) {
	ps := make([]int32, len(evs))
	taus := make([]int64, len(evs))
	cur := map[int32]int64{}
	for i, e := range evs {
		p := partitionOf(e.Key, parts)
		if _, ok := cur[p]; !ok {
			cur[p] = e.TS
		}
		cur[p] = max(cur[p], e.TS)
		ps[i], taus[i] = p, cur[p]
	}
	return ps, taus
}

func (r *reference) finish(evs []event, ps []int32, taus []int64) {
	for i := range evs {
		r.time[ps[i]] = taus[i]
	}
}

func (r *reference) add(k window.Key[string], p int32, closeAt int64, e event) {
	w := r.windows[k]
	if w == nil {
		w = &refWindow{CloseAt: closeAt, Partition: p, MaxTS: e.TS}
		r.windows[k] = w
	}
	w.Values = append(w.Values, e.Value)
	w.MaxTS = max(w.MaxTS, e.TS)
}

// referenceTime computes tumbling or hopping windows: a record joins each
// window [s, s+size) containing it (s a multiple of advance, s >= 0) that
// has not closed (stream time < s+size+grace); it is late if one had.
func referenceTime(evs []event, parts int32, size, advance, grace time.Duration) *reference {
	sz, adv, gr := size.Milliseconds(), advance.Milliseconds(), grace.Milliseconds()
	ref := newReference()
	ps, taus := streamTimes(evs, parts)
	for i, e := range evs {
		late := e.TS < 0
		// Every multiple of the advance from well before the record to
		// the record, keeping those whose window contains it.
		for s := (e.TS/adv - sz/adv - 2) * adv; s <= e.TS; s += adv {
			if s < 0 || e.TS >= s+sz {
				continue
			}
			if taus[i] >= s+sz+gr {
				late = true
				continue
			}
			ref.add(window.Key[string]{Key: e.Key, Start: s, End: s + sz}, ps[i], s+sz+gr, e)
		}
		if late {
			ref.late = append(ref.late, e)
		}
	}
	ref.finish(evs, ps, taus)
	return ref
}

// referenceSliding computes sliding windows from their definition. The
// window starting at S spans [S, S+d]. It is defined once a record at S+d
// has arrived (the window of that record) or a record at S-1 and one in
// (S-1, S-1+d] have (the window just after S-1); it exists if it was still
// open at that arrival (stream time < S+d+1+grace), and then holds the
// records in its span that arrived up to that point, and those that
// arrived while it was open, in arrival order. A record is late when its
// own window [t-d, t] had closed on arrival.
func referenceSliding(evs []event, parts int32, maxDiff, grace time.Duration) *reference {
	d, gr := maxDiff.Milliseconds(), grace.Milliseconds()
	ref := newReference()
	ps, taus := streamTimes(evs, parts)
	byKey := map[string][]int{} // arrival indexes of each key's events
	for i, e := range evs {
		byKey[e.Key] = append(byKey[e.Key], i)
		if taus[i] >= e.TS+1+gr {
			ref.late = append(ref.late, e)
		}
	}
	for key, idx := range byKey {
		// Candidate starts, and the arrival at which each is defined.
		defined := map[int64]int{}
		define := func(s int64, at int) {
			if prev, ok := defined[s]; !ok || at < prev {
				defined[s] = at
			}
		}
		for n, i := range idx {
			define(evs[i].TS-d, i)
			for _, j := range idx[:n] {
				x, z := evs[j].TS, evs[i].TS
				if x < z && z <= x+d {
					define(x+1, i) // j came first: the window after x appears with i
				}
				if z < x && x <= z+d {
					define(z+1, i)
				}
			}
		}
		for s, a := range defined {
			end := s + d + 1
			if taus[a] >= end+gr {
				continue // closed before it could exist
			}
			k := window.Key[string]{Key: key, Start: s, End: end}
			for _, j := range idx {
				e := evs[j]
				if e.TS >= s && e.TS < end && (j <= a || taus[j] < end+gr) {
					ref.add(k, ps[j], end+gr, e)
				}
			}
		}
	}
	ref.finish(evs, ps, taus)
	return ref
}

// referenceSessions computes sessions: a record at t is late if its own
// session would have closed (stream time >= t+1+gap+grace) or if it is
// within gap of a closed session; otherwise it merges with every session
// within gap of it (start-gap <= t <= last+gap), the merged values in
// start order and the record's last.
func referenceSessions(evs []event, parts int32, gap, grace time.Duration) *reference {
	g, gr := gap.Milliseconds(), grace.Milliseconds()
	type session struct {
		start, last, maxTS int64
		values             []int64
		partition          int32
	}
	sessions := map[string][]*session{}
	ref := newReference()
	ps, taus := streamTimes(evs, parts)
	closed := func(s *session, tau int64) bool { return tau >= s.last+1+g+gr }
	for i, e := range evs {
		tau := taus[i]
		if tau >= e.TS+1+g+gr {
			ref.late = append(ref.late, e)
			continue
		}
		var touching, others []*session
		for _, s := range sessions[e.Key] {
			if s.start-g <= e.TS && e.TS <= s.last+g {
				touching = append(touching, s)
			} else {
				others = append(others, s)
			}
		}
		if slices.ContainsFunc(touching, func(s *session) bool { return closed(s, tau) }) {
			ref.late = append(ref.late, e)
			continue
		}
		slices.SortFunc(touching, func(a, b *session) int { return cmp.Compare(a.start, b.start) })
		m := &session{start: e.TS, last: e.TS, maxTS: e.TS, partition: ps[i]}
		for _, s := range touching {
			m.start, m.last, m.maxTS = min(m.start, s.start), max(m.last, s.last), max(m.maxTS, s.maxTS)
			m.values = append(m.values, s.values...)
		}
		m.values = append(m.values, e.Value)
		sessions[e.Key] = append(others, m)
	}
	for key, ss := range sessions {
		for _, s := range ss {
			k := window.Key[string]{Key: key, Start: s.start, End: s.last + 1}
			ref.windows[k] = &refWindow{Values: s.values, MaxTS: s.maxTS, CloseAt: s.last + 1 + g + gr, Partition: s.partition}
		}
	}
	ref.finish(evs, ps, taus)
	return ref
}
