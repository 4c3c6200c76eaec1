package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// joinTask is one task's instance of a stream–stream join: its shared
// state and the two sides records arrive on.
type joinTask[K, V1, V2, VR any] struct {
	left  *joinSide[K, V1, V2, VR]
	right *joinSide[K, V2, V1, VR]
}

// joinState is what both sides of a join share in a task: the time, the
// candidates and where results go.
//
// Its time is the largest of the task's stream time, the timestamps it
// has seen and, while the task is idle, the wall-clock extrapolation of
// CloseIdleAfter. It never goes back and is kept in the this store (meta
// entry) with the arrival sequence, so a restart neither reopens closed
// windows nor reuses a record's store key.
type joinState[K, VR any] struct {
	name      string
	kind      joinKind
	win       JoinWindow
	tc        topology.TaskContext
	ks        serde.Serde[K]
	next      dsl.Receiver[K, VR]
	meta      storage.Store // the this store: holds the meta entry
	outer     storage.Store // candidates; nil for inner joins
	late      *atomic.Int64
	dropped   *atomic.Int64
	lateTopic string

	time int64  // math.MinInt64 before any record
	seq  uint64 // arrival number of the last record buffered
	// nextClose is no later than the earliest close time of a candidate,
	// so that time can move without a scan until one is due;
	// math.MinInt64 when unknown.
	nextClose int64
	// emitted is the time of the last scan of the candidates: every
	// candidate closing before it is gone, and none is created closing
	// before it (a record on time closes at or after the time), so the
	// next scan starts there, past the deleted entries.
	emitted int64
	// idleWall is when (wall clock, Unix ms) the last record arrived, or
	// the task started; idleTime the join's time then.
	idleWall, idleTime int64

	// unmatched[side] forwards a candidate of side whose window closed
	// without a partner; vb is its serialized value.
	unmatched [2]func(c candidate, vb []byte) error
}

func newJoin[K, V1, V2, VR any](tc topology.TaskContext, next dsl.Receiver[K, VR], s *joinSpec[K, V1, V2, VR]) (*joinTask[K, V1, V2, VR], error) {
	st := &joinState[K, VR]{name: s.name, kind: s.kind, win: s.win, tc: tc, ks: s.ks, next: next, lateTopic: s.cfg.lateTopic,
		time: math.MinInt64, nextClose: math.MinInt64, emitted: math.MinInt64}
	this, err := tc.Store(s.this)
	if err != nil {
		return nil, err
	}
	other, err := tc.Store(s.other)
	if err != nil {
		return nil, err
	}
	if s.outer != "" {
		if st.outer, err = tc.Store(s.outer); err != nil {
			return nil, err
		}
	}
	st.meta = this
	if cs, ok := tc.(counterSource); ok {
		st.late, st.dropped = cs.Counter(lateCounter(s.name)), cs.Counter(droppedCounter(s.name))
	} else {
		st.late, st.dropped = new(atomic.Int64), new(atomic.Int64)
	}
	if err := st.loadMeta(); err != nil {
		return nil, err
	}
	st.idleWall, st.idleTime = tc.Now().UnixMilli(), st.time
	if s.cfg.idle > 0 {
		tc.Schedule(min(s.cfg.idle, time.Second), topology.WallClock, func(now int64) error { return st.idleCheck(now, ms(s.cfg.idle)) })
	}
	j := &joinTask[K, V1, V2, VR]{
		left: &joinSide[K, V1, V2, VR]{state: st, side: sideLeft, own: this, partner: other, ownName: s.this, partnerName: s.other,
			tvs: s.lvs, ovs: s.rvs, topics: s.leftTopics, onLate: s.lateLeft,
			joined: func(k K, l V1, r V2) VR { return s.joiner(k, l, true, r, true) },
			alone: func(k K, l V1) VR {
				var r V2
				return s.joiner(k, l, true, r, false)
			}},
		right: &joinSide[K, V2, V1, VR]{state: st, side: sideRight, own: other, partner: this, ownName: s.other, partnerName: s.this,
			tvs: s.rvs, ovs: s.lvs, topics: s.rightTops, onLate: s.lateRight,
			joined: func(k K, r V2, l V1) VR { return s.joiner(k, l, true, r, true) },
			alone: func(k K, r V2) VR {
				var l V1
				return s.joiner(k, l, false, r, true)
			}},
	}
	st.unmatched[sideLeft], st.unmatched[sideRight] = j.left.forwardUnmatched, j.right.forwardUnmatched
	return j, nil
}

func (s *joinState[K, VR]) loadMeta() error {
	b, ok, err := s.meta.Get(metaKey)
	if err != nil || !ok {
		return err
	}
	if len(b) != 16 {
		return fmt.Errorf("window: join %s: stored join state of %d bytes, want 16", s.name, len(b))
	}
	s.time = int64(binary.BigEndian.Uint64(b))
	s.seq = binary.BigEndian.Uint64(b[8:])
	return nil
}

func (s *joinState[K, VR]) saveMeta() error {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(s.time))
	return s.meta.Put(metaKey, binary.BigEndian.AppendUint64(b, s.seq))
}

// advance moves the join's time to t if that is later, emitting the
// candidates whose windows it closes.
func (s *joinState[K, VR]) advance(t int64) error {
	if t <= s.time {
		return nil
	}
	s.time = t
	if err := s.saveMeta(); err != nil {
		return err
	}
	if s.outer != nil {
		return s.emitClosed()
	}
	return nil
}

// idleCheck is the wall-clock punctuation of CloseIdleAfter.
func (s *joinState[K, VR]) idleCheck(now, after int64) error {
	if s.time == math.MinInt64 {
		return nil // no record yet: nothing to close
	}
	idle := now - s.idleWall
	if idle < after {
		return nil
	}
	return s.advance(s.idleTime + idle)
}

// closed reports whether a record of side at ts takes no more partners.
func (s *joinState[K, VR]) closed(side byte, ts int64) bool {
	return s.time > s.win.closeAt(side, ts)
}

// emitClosed forwards, once, every candidate whose window has closed, in
// order of close time: those records never joined and never will.
func (s *joinState[K, VR]) emitClosed() error {
	if s.nextClose != math.MinInt64 && s.time <= s.nextClose {
		return nil
	}
	type due struct{ key, value []byte }
	var dues []due
	next := int64(math.MaxInt64)
	from := []byte{tagPending}
	if s.emitted != math.MinInt64 {
		from = candidatesFrom(s.emitted)
	}
	err := s.scan(s.outer, from, candidatesEnd, func(k, v []byte) error {
		c, err := parseCandidate(k)
		if err != nil {
			return err
		}
		if c.close >= s.time { // candidates are in close order: none is due after this one
			next = c.close
			return errStopScan
		}
		dues = append(dues, due{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	s.nextClose, s.emitted = next, s.time
	for _, d := range dues {
		c, err := parseCandidate(d.key)
		if err != nil {
			return fmt.Errorf("window: join %s: %w", s.name, err)
		}
		if err := s.outer.Delete(d.key); err != nil {
			return err
		}
		if err := s.unmatched[c.side](c, d.value); err != nil {
			return err
		}
	}
	return nil
}

// addCandidate keeps a record that joined nothing yet until its window
// closes.
func (s *joinState[K, VR]) addCandidate(side byte, kb []byte, ts int64, seq uint64, vb []byte) error {
	close := s.win.closeAt(side, ts)
	if err := s.outer.Put(candidateKey(close, side, kb, ts, seq), vb); err != nil {
		return err
	}
	if s.nextClose != math.MinInt64 {
		s.nextClose = min(s.nextClose, close)
	}
	return nil
}

// dropCandidate forgets a record that has just joined, if it was waiting.
func (s *joinState[K, VR]) dropCandidate(side byte, kb []byte, ts int64, seq uint64) error {
	key := candidateKey(s.win.closeAt(side, ts), side, kb, ts, seq)
	if _, ok, err := s.outer.Get(key); err != nil || !ok {
		return err
	}
	return s.outer.Delete(key)
}

// scan calls fn with each entry in [lo, hi) of a snapshot of st, until fn
// returns errStopScan or another error.
func (s *joinState[K, VR]) scan(st storage.Store, lo, hi []byte, fn func(k, v []byte) error) error {
	it, err := st.Range(lo, hi)
	if err != nil {
		return fmt.Errorf("window: join %s: %w", s.name, err)
	}
	defer it.Close()
	for it.Next() {
		if err := fn(it.Key(), it.Value()); errors.Is(err, errStopScan) {
			return nil
		} else if err != nil {
			return fmt.Errorf("window: join %s: %w", s.name, err)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("window: join %s: %w", s.name, err)
	}
	return nil
}
