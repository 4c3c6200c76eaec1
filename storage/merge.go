package storage

import (
	"bytes"
	"sort"
)

// mergeSource is one input of a mergeIterator, already restricted to the
// range and walking in the iteration's direction.
type mergeSource interface {
	next() bool
	key() []byte
	value() []byte
	deleted() bool
	err() error
	close() error
}

// mergeIterator merges sources into one iteration: for a key present in
// several, the first source (the newest layer) wins, and a deletion there
// hides the key altogether. Cached layers its dirty entries, the entries
// being flushed and the inner store this way.
type mergeIterator struct {
	srcs    []mergeSource // newest first
	valid   []bool
	marked  []bool
	reverse bool

	cur     int // source holding the current entry, -1 if none
	started bool
	closed  bool
	err     error
}

func newMergeIterator(reverse bool, srcs ...mergeSource) *mergeIterator {
	return &mergeIterator{
		srcs:    srcs,
		valid:   make([]bool, len(srcs)),
		marked:  make([]bool, len(srcs)),
		reverse: reverse,
		cur:     -1,
	}
}

func (m *mergeIterator) Next() bool {
	if m.closed || m.err != nil {
		return false
	}
	if !m.started {
		m.started = true
		for i := range m.srcs {
			if !m.advance(i) {
				return false
			}
		}
	} else if m.cur >= 0 {
		if !m.skip(m.cur) {
			return false
		}
	}
	for {
		best := -1
		for i, src := range m.srcs {
			if !m.valid[i] {
				continue
			}
			if best < 0 || m.before(src.key(), m.srcs[best].key()) {
				best = i
			}
		}
		m.cur = best
		if best < 0 {
			return false
		}
		if !m.srcs[best].deleted() {
			return true
		}
		if !m.skip(best) {
			return false
		}
	}
}

// before reports whether a comes strictly before b in iteration order.
func (m *mergeIterator) before(a, b []byte) bool {
	c := bytes.Compare(a, b)
	if m.reverse {
		return c > 0
	}
	return c < 0
}

// skip moves every source positioned on source i's key past it. Sources
// are compared before any moves: moving one may invalidate its key slice.
func (m *mergeIterator) skip(i int) bool {
	k := m.srcs[i].key()
	for j, src := range m.srcs {
		m.marked[j] = m.valid[j] && (j == i || bytes.Equal(src.key(), k))
	}
	for j := range m.srcs {
		if m.marked[j] && !m.advance(j) {
			return false
		}
	}
	return true
}

// advance moves source i on, recording whether it still has an entry; it
// returns false if the source failed.
func (m *mergeIterator) advance(i int) bool {
	m.valid[i] = m.srcs[i].next()
	if !m.valid[i] {
		if err := m.srcs[i].err(); err != nil {
			m.err = err
			m.cur = -1
			return false
		}
	}
	return true
}

func (m *mergeIterator) Key() []byte {
	if m.closed || m.cur < 0 {
		return nil
	}
	return m.srcs[m.cur].key()
}

func (m *mergeIterator) Value() []byte {
	if m.closed || m.cur < 0 {
		return nil
	}
	return m.srcs[m.cur].value()
}

func (m *mergeIterator) Err() error { return m.err }

func (m *mergeIterator) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	m.cur = -1
	var first error
	for _, src := range m.srcs {
		if err := src.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// sliceSource walks sorted, immutable mutations (a cache layer).
type sliceSource struct {
	entries []Mutation // ascending by key
	reverse bool
	pos     int
}

func newSliceSource(entries []Mutation, reverse bool) *sliceSource {
	s := &sliceSource{entries: entries, reverse: reverse, pos: -1}
	if reverse {
		s.pos = len(entries)
	}
	return s
}

func (s *sliceSource) next() bool {
	if s.reverse {
		if s.pos >= 0 {
			s.pos--
		}
		return s.pos >= 0
	}
	if s.pos < len(s.entries) {
		s.pos++
	}
	return s.pos < len(s.entries)
}

func (s *sliceSource) key() []byte   { return s.entries[s.pos].Key }
func (s *sliceSource) value() []byte { return s.entries[s.pos].Value }
func (s *sliceSource) deleted() bool { return s.entries[s.pos].Delete }
func (s *sliceSource) err() error    { return nil }
func (s *sliceSource) close() error  { return nil }

// iteratorSource adapts a store's Iterator; stores hold no deletions.
type iteratorSource struct{ it Iterator }

func (s iteratorSource) next() bool    { return s.it.Next() }
func (s iteratorSource) key() []byte   { return s.it.Key() }
func (s iteratorSource) value() []byte { return s.it.Value() }
func (s iteratorSource) deleted() bool { return false }
func (s iteratorSource) err() error    { return s.it.Err() }
func (s iteratorSource) close() error  { return s.it.Close() }

// boundSlice returns the part of sorted entries with keys in [start, end).
func boundSlice(entries []Mutation, start, end []byte) []Mutation {
	lo := 0
	if start != nil {
		lo = sort.Search(len(entries), func(i int) bool { return bytes.Compare(entries[i].Key, start) >= 0 })
	}
	hi := len(entries)
	if end != nil {
		hi = sort.Search(len(entries), func(i int) bool { return bytes.Compare(entries[i].Key, end) >= 0 })
	}
	if hi < lo {
		hi = lo
	}
	return entries[lo:hi]
}
