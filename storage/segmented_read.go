package storage

import (
	"bytes"
	"errors"
	"fmt"
)

// Get returns key's value, or nothing if the key has expired.
func (s *Segmented) Get(key []byte) ([]byte, bool, error) {
	ts, ok, err := s.keyTime(key)
	if err != nil {
		return nil, false, err
	}
	// The read lock is held through the inner Get so that no segment is
	// closed under it.
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, s.closedErr("get")
	}
	if !ok {
		return s.base.Get(key)
	}
	if ts < expiredBefore(s.observed, s.opts.Retention) {
		return nil, false, nil
	}
	seg := s.segs[s.segmentOf(ts)]
	if seg == nil || (seg.filter != nil && !seg.filter.mayContain(key)) {
		return nil, false, nil
	}
	return seg.store.Get(key)
}

// expired reports whether Get would hide key as expired, for a Cached
// store's clean layer: Apply skips keys that are expired when it runs, so
// a flushed entry need not be here. A key whose time cannot be read, or a
// closed store, says true, so that the caller asks Get and gets the error.
func (s *Segmented) expired(key []byte) bool {
	ts, ok, err := s.opts.KeyTime(key)
	if err != nil {
		return true
	}
	if !ok {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed || ts < expiredBefore(s.observed, s.opts.Retention)
}

// Range iterates [start, end) in ascending key order across the segments
// and the base store, over a snapshot, hiding keys expired when it starts.
func (s *Segmented) Range(start, end []byte) (Iterator, error) {
	return s.newIterator(start, end, false)
}

// ReverseRange is Range in descending key order.
func (s *Segmented) ReverseRange(start, end []byte) (Iterator, error) {
	return s.newIterator(start, end, true)
}

func (s *Segmented) newIterator(start, end []byte, reverse bool) (Iterator, error) {
	// The write lock, unlike Get's read lock: opening the sources and
	// taking references must not interleave with another reader's release
	// of a dropped segment.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, s.closedErr("range")
	}
	if end != nil && bytes.Compare(start, end) >= 0 {
		return emptyIterator{}, nil
	}
	var stores []Store
	var segs []*segment
	from, to, bounded := int64(0), int64(0), false
	if s.opts.RangeTimes != nil {
		from, to, bounded = s.opts.RangeTimes(start, end)
	}
	if !bounded {
		stores, segs = append(stores, s.base), append(segs, nil)
	}
	for id, seg := range s.segs {
		if bounded && ((id+1)*s.opts.SegmentInterval-1 < from || id*s.opts.SegmentInterval > to) {
			continue
		}
		stores = append(stores, seg.store)
		segs = append(segs, seg)
	}
	live := expiredBefore(s.observed, s.opts.Retention)
	srcs := make([]mergeSource, 0, len(stores))
	var opened []*segment
	fail := func(err error) (Iterator, error) {
		for _, src := range srcs {
			src.close()
		}
		s.releaseLocked(opened)
		return nil, err
	}
	for i, st := range stores {
		var it Iterator
		var err error
		if reverse {
			r, ok := st.(Reverser)
			if !ok {
				return fail(fmt.Errorf("storage: reverse range in segmented store %q: %T: %w", s.opts.Name, st, ErrUnsupported))
			}
			it, err = r.ReverseRange(start, end)
		} else {
			it, err = st.Range(start, end)
		}
		if err != nil {
			return fail(err)
		}
		if segs[i] != nil {
			segs[i].refs++
			opened = append(opened, segs[i])
			srcs = append(srcs, &liveSource{it: it, s: s, live: live})
		} else {
			srcs = append(srcs, iteratorSource{it})
		}
	}
	return &segmentedIterator{mergeIterator: newMergeIterator(reverse, srcs...), owner: s, segs: opened}, nil
}

// release drops an iterator's references, destroying segments that were
// dropped meanwhile and are no longer read.
func (s *Segmented) release(segs []*segment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.releaseLocked(segs)
}

func (s *Segmented) releaseLocked(segs []*segment) error {
	var errs []error
	for _, seg := range segs {
		seg.refs--
		if seg.refs == 0 && seg.dropped {
			errs = append(errs, seg.destroy())
		}
	}
	return errors.Join(errs...)
}

// segmentedIterator is a merge of the segments' iterators that releases
// its segments when closed.
type segmentedIterator struct {
	*mergeIterator
	owner    *Segmented
	segs     []*segment
	released bool
}

func (it *segmentedIterator) Close() error {
	err := it.mergeIterator.Close()
	if it.released {
		return err
	}
	it.released = true
	return errors.Join(err, it.owner.release(it.segs))
}

// liveSource walks a segment's iterator, skipping keys that were expired
// when the iteration started (their segment may still hold them).
type liveSource struct {
	it   Iterator
	s    *Segmented
	live int64
	bad  error // a key KeyTime could not read
}

func (l *liveSource) next() bool {
	for l.it.Next() {
		ts, _, err := l.s.keyTime(l.it.Key())
		if err != nil {
			l.bad = err
			return false
		}
		if ts >= l.live {
			return true
		}
	}
	return false
}

func (l *liveSource) key() []byte   { return l.it.Key() }
func (l *liveSource) value() []byte { return l.it.Value() }
func (l *liveSource) deleted() bool { return false }
func (l *liveSource) close() error  { return l.it.Close() }

func (l *liveSource) err() error {
	if l.bad != nil {
		return l.bad
	}
	return l.it.Err()
}
