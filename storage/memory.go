package storage

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/google/btree"
)

// entryOverhead approximates the bytes an entry costs in memory beyond its
// key and value: a B-tree slot, slice headers and allocation rounding. Both
// Memory's size and Cached's dirty-bytes bound count it.
const entryOverhead = 64

// Memory is a Store held in memory, ordered by a copy-on-write B-tree. It
// suits small state and tests; nothing survives Close, and Flush has
// nothing to do.
//
// Safe for one writer and any number of concurrent readers. Range takes an
// O(1) copy-on-write snapshot of the tree, so iterators see the store as it
// was when they were created, hold no lock, and may outlive Close.
type Memory struct {
	name string

	mu     sync.RWMutex
	tree   *btree.BTreeG[memEntry]
	bytes  int64
	closed bool
}

type memEntry struct {
	key   []byte
	value []byte
}

func memLess(a, b memEntry) bool { return bytes.Compare(a.key, b.key) < 0 }

// btreeDegree is the B-tree's minimum degree: nodes of up to 63 entries
// keep the tree shallow and the copy-on-write copies after a snapshot small.
const btreeDegree = 32

// NewMemory returns an empty in-memory store.
func NewMemory(name string) *Memory {
	return &Memory{name: name, tree: btree.NewG(btreeDegree, memLess)}
}

// Name returns the store's name.
func (m *Memory) Name() string { return m.name }

func (m *Memory) closedErr(op string) error {
	return fmt.Errorf("storage: %s in store %q: %w", op, m.name, ErrClosed)
}

// Get returns a copy of key's value.
func (m *Memory) Get(key []byte) ([]byte, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, false, m.closedErr("get")
	}
	e, ok := m.tree.Get(memEntry{key: key})
	if !ok {
		return nil, false, nil
	}
	return cloneBytes(e.value), true, nil
}

// Put sets key to a copy of value.
func (m *Memory) Put(key, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.closedErr("put")
	}
	m.put(key, value)
	return nil
}

// put stores copies of key and value; the caller holds mu.
func (m *Memory) put(key, value []byte) {
	e := memEntry{key: cloneBytes(key), value: cloneBytes(value)}
	if old, replaced := m.tree.ReplaceOrInsert(e); replaced {
		m.bytes -= entrySize(old.key, old.value)
	}
	m.bytes += entrySize(e.key, e.value)
}

func (m *Memory) delete(key []byte) {
	if old, ok := m.tree.Delete(memEntry{key: key}); ok {
		m.bytes -= entrySize(old.key, old.value)
	}
}

// Delete removes key.
func (m *Memory) Delete(key []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.closedErr("delete")
	}
	m.delete(key)
	return nil
}

// Apply performs the mutations under one lock, so readers see all or none
// of them.
func (m *Memory) Apply(batch []Mutation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.closedErr("apply")
	}
	for i := range batch {
		if batch[i].Delete {
			m.delete(batch[i].Key)
		} else {
			m.put(batch[i].Key, batch[i].Value)
		}
	}
	return nil
}

// Flush does nothing: a memory store has no local durability. Its state
// is rebuilt from the changelog after a restart.
func (m *Memory) Flush() error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return m.closedErr("flush")
	}
	return nil
}

// Len returns the number of keys.
func (m *Memory) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.tree.Len()
}

// ApproximateBytes returns the bytes of keys and values plus a fixed
// per-entry overhead.
func (m *Memory) ApproximateBytes() (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, m.closedErr("size")
	}
	return m.bytes, nil
}

// Close drops the contents. Iterators already open keep their snapshot.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.tree = btree.NewG(btreeDegree, memLess)
		m.bytes = 0
	}
	return nil
}

// Range iterates [start, end) in ascending order over a snapshot.
func (m *Memory) Range(start, end []byte) (Iterator, error) {
	return m.snapshotIterator(start, end, false)
}

// ReverseRange iterates [start, end) in descending order over a snapshot.
func (m *Memory) ReverseRange(start, end []byte) (Iterator, error) {
	return m.snapshotIterator(start, end, true)
}

func (m *Memory) snapshotIterator(start, end []byte, reverse bool) (Iterator, error) {
	// Clone marks the tree copy-on-write, which writes to it: it needs the
	// exclusive lock even though Range is a read.
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, m.closedErr("range")
	}
	if end != nil && bytes.Compare(start, end) >= 0 {
		return emptyIterator{}, nil
	}
	return &memIterator{tree: m.tree.Clone(), start: start, end: end, reverse: reverse}, nil
}

// memIterator walks a private snapshot of the tree in chunks: the B-tree
// only offers callbacks, and a chunk at a time keeps the iterator a plain
// pull loop with no goroutine to leak.
type memIterator struct {
	tree       *btree.BTreeG[memEntry]
	start, end []byte
	reverse    bool

	chunk  []memEntry
	pos    int
	more   bool // the tree may hold entries past the chunk
	begun  bool
	closed bool
}

const memChunk = 128

func (it *memIterator) Next() bool {
	if it.closed {
		return false
	}
	if !it.begun {
		it.begun = true
		it.more = true
		it.fill(nil)
		return it.pos < len(it.chunk)
	}
	it.pos++
	if it.pos < len(it.chunk) {
		return true
	}
	if !it.more || len(it.chunk) == 0 {
		it.chunk, it.pos = it.chunk[:0], 0
		return false
	}
	it.fill(it.chunk[len(it.chunk)-1].key)
	return it.pos < len(it.chunk)
}

// fill loads the next chunk, resuming after the key after (nil: from the
// start of the range).
func (it *memIterator) fill(after []byte) {
	chunk := it.chunk[:0]
	it.pos = 0
	visit := func(e memEntry) bool {
		if after != nil && bytes.Equal(e.key, after) {
			return true
		}
		if it.reverse {
			if it.start != nil && bytes.Compare(e.key, it.start) < 0 {
				it.more = false
				return false
			}
		} else if it.end != nil && bytes.Compare(e.key, it.end) >= 0 {
			it.more = false
			return false
		}
		chunk = append(chunk, e)
		return len(chunk) < memChunk
	}
	switch {
	case !it.reverse && after != nil:
		it.tree.AscendGreaterOrEqual(memEntry{key: after}, visit)
	case !it.reverse && it.start != nil:
		it.tree.AscendGreaterOrEqual(memEntry{key: it.start}, visit)
	case !it.reverse:
		it.tree.Ascend(visit)
	case after != nil:
		it.tree.DescendLessOrEqual(memEntry{key: after}, visit)
	case it.end != nil:
		it.tree.DescendLessOrEqual(memEntry{key: it.end}, func(e memEntry) bool {
			if bytes.Equal(e.key, it.end) {
				return true // end is exclusive
			}
			return visit(e)
		})
	default:
		it.tree.Descend(visit)
	}
	if len(chunk) < memChunk {
		it.more = false
	}
	it.chunk = chunk
}

func (it *memIterator) Key() []byte {
	if it.closed || !it.begun || it.pos >= len(it.chunk) {
		return nil
	}
	return it.chunk[it.pos].key
}

func (it *memIterator) Value() []byte {
	if it.closed || !it.begun || it.pos >= len(it.chunk) {
		return nil
	}
	return it.chunk[it.pos].value
}

func (it *memIterator) Err() error { return nil }

func (it *memIterator) Close() error {
	it.closed = true
	it.tree, it.chunk = nil, nil
	return nil
}

// entrySize is the bytes an entry is charged in memory accounting.
func entrySize(key, value []byte) int64 {
	return int64(len(key) + len(value) + entryOverhead)
}

// cloneBytes copies b, keeping an empty value non-nil so that "present and
// empty" stays distinct from "missing".
func cloneBytes(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}
