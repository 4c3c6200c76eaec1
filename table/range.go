package table

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
)

// Range returns an iterator over the entries of a materialized table in a
// running app whose keys lie between from and to, both included; a nil
// bound leaves that side open. Keys are compared, and entries come, in the
// byte order of their serialized keys — alphabetical for serde.String
// keys; for serde.Int64 keys numeric among non-negative keys, with negative
// keys after them — merged across the table's partitions. Each partition is
// read as it was when Range was called (cached updates included), as Lookup
// reads it. Close the iterator when done.
func Range[K, V any](app *stream.App, t Table[K, V], from, to *K) (*Iterator[K, V], error) {
	s := t.s
	if s.Store == "" {
		return nil, fmt.Errorf("%w: query the table it was derived from", ErrNotQueryable)
	}
	var start, end []byte
	if from != nil {
		b, err := s.KeySerde.Serialize(s.Store, *from)
		if err != nil {
			return nil, fmt.Errorf("table %s: range start: %w", s.Store, err)
		}
		start = b
	}
	if to != nil {
		b, err := s.KeySerde.Serialize(s.Store, *to)
		if err != nil {
			return nil, fmt.Errorf("table %s: range end: %w", s.Store, err)
		}
		// The store's ranges exclude their end; the smallest key after to
		// is to followed by a zero byte.
		end = append(b[:len(b):len(b)], 0)
	}
	if start != nil && end != nil && bytes.Compare(start, end) >= 0 {
		end = []byte{} // from after to: nothing, rather than an error
	}
	info, err := app.Internal().StoreInfo(s.Store)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", s.Store, err)
	}
	it := &Iterator[K, V]{s: s}
	for p := range info.Partitions {
		st, err := app.Store(s.Store, p)
		if err == nil {
			var pi storage.Iterator
			if pi, err = st.Range(start, end); err == nil {
				it.parts = append(it.parts, &partIter{it: pi})
				continue
			}
		}
		it.Close()
		return nil, fmt.Errorf("table %s partition %d: %w", s.Store, p, err)
	}
	for _, pi := range it.parts {
		pi.advance()
	}
	return it, nil
}

// Iterator walks the entries Range selected, in key order. It starts before
// the first entry: call Next to move onto it. It is used by one goroutine.
type Iterator[K, V any] struct {
	s      *dsl.Stream[K, V]
	parts  []*partIter
	key    K
	value  V
	err    error
	closed bool
}

// partIter is one partition's store iterator with its current entry.
type partIter struct {
	it  storage.Iterator
	has bool
}

func (p *partIter) advance() { p.has = p.it.Next() }

// Next moves to the entry with the smallest key among the partitions, and
// reports whether there is one. It returns false at the end, after an error
// (see Err) and after Close.
func (it *Iterator[K, V]) Next() bool {
	if it.err != nil || it.closed {
		return false
	}
	// Partitions are few: a linear scan for the smallest key beats a heap.
	var min *partIter
	for _, p := range it.parts {
		if !p.has {
			if err := p.it.Err(); err != nil {
				it.err = fmt.Errorf("table %s: %w", it.s.Store, err)
				return false
			}
			continue
		}
		if min == nil || bytes.Compare(p.it.Key(), min.it.Key()) < 0 {
			min = p
		}
	}
	if min == nil {
		return false
	}
	k, err := it.s.KeySerde.Deserialize(it.s.Store, min.it.Key())
	if err != nil {
		it.err = fmt.Errorf("table %s: stored key: %w", it.s.Store, err)
		return false
	}
	_, vb, err := dsl.DecodeTimestamped(min.it.Value())
	if err != nil {
		it.err = fmt.Errorf("table %s: %w", it.s.Store, err)
		return false
	}
	v, err := it.s.ValueSerde.Deserialize(it.s.Store, vb)
	if err != nil {
		it.err = fmt.Errorf("table %s: stored value: %w", it.s.Store, err)
		return false
	}
	it.key, it.value = k, v
	min.advance()
	return true
}

// Key is the current entry's key.
func (it *Iterator[K, V]) Key() K { return it.key }

// Value is the current entry's value.
func (it *Iterator[K, V]) Value() V { return it.value }

// Err is the error that stopped the iteration, if any.
func (it *Iterator[K, V]) Err() error { return it.err }

// Close releases the partitions' iterators. It is idempotent.
func (it *Iterator[K, V]) Close() error {
	var errs []error
	for _, p := range it.parts {
		errs = append(errs, p.it.Close())
		p.has = false
	}
	it.parts = nil
	it.closed = true
	return errors.Join(errs...)
}
