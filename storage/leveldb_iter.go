package storage

import (
	"sync"

	"github.com/syndtr/goleveldb/leveldb/iterator"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// Range iterates [start, end) in ascending order over a snapshot.
func (l *LevelDB) Range(start, end []byte) (Iterator, error) {
	return l.newIterator(start, end, false)
}

// ReverseRange iterates [start, end) in descending order over a snapshot.
func (l *LevelDB) ReverseRange(start, end []byte) (Iterator, error) {
	return l.newIterator(start, end, true)
}

func (l *LevelDB) newIterator(start, end []byte, reverse bool) (Iterator, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.db == nil {
		return nil, l.closedErr("range")
	}
	if end != nil && len(end) == 0 {
		// goleveldb reads an empty limit as "no limit"; here it is an
		// empty range.
		return emptyIterator{}, nil
	}
	it := &levelIterator{
		owner:   l,
		it:      l.db.NewIterator(&util.Range{Start: start, Limit: end}, nil),
		reverse: reverse,
	}
	l.itersMu.Lock()
	l.iters[it] = struct{}{}
	l.itersMu.Unlock()
	return it, nil
}

// levelIterator adapts a goleveldb iterator to Iterator. Its mutex lets the
// store's Close release it while its user may still call it.
type levelIterator struct {
	owner   *LevelDB
	reverse bool

	mu      sync.Mutex
	it      iterator.Iterator // nil once released
	started bool
	err     error
}

func (i *levelIterator) Next() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.it == nil {
		return false
	}
	var ok bool
	switch {
	case !i.started && i.reverse:
		ok = i.it.Last()
	case !i.started:
		ok = i.it.First()
	case i.reverse:
		ok = i.it.Prev()
	default:
		ok = i.it.Next()
	}
	i.started = true
	if !ok {
		if err := i.it.Error(); err != nil && i.err == nil {
			i.err = i.owner.fail("iterate", err)
		}
	}
	return ok
}

func (i *levelIterator) Key() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.it == nil {
		return nil
	}
	return i.it.Key()
}

func (i *levelIterator) Value() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.it == nil {
		return nil
	}
	return i.it.Value()
}

func (i *levelIterator) Err() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.err
}

func (i *levelIterator) Close() error {
	if !i.release(nil) {
		return nil
	}
	i.owner.itersMu.Lock()
	if i.owner.iters != nil {
		delete(i.owner.iters, i)
	}
	i.owner.itersMu.Unlock()
	return nil
}

// release frees the goleveldb iterator, recording cause as the error if
// the iterator had none; it reports whether this call released it.
func (i *levelIterator) release(cause error) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.it == nil {
		return false
	}
	i.it.Release()
	i.it = nil
	if i.err == nil {
		i.err = cause
	}
	return true
}

// emptyIterator iterates nothing.
type emptyIterator struct{}

func (emptyIterator) Next() bool    { return false }
func (emptyIterator) Key() []byte   { return nil }
func (emptyIterator) Value() []byte { return nil }
func (emptyIterator) Err() error    { return nil }
func (emptyIterator) Close() error  { return nil }
