package storage

import (
	"bytes"
	"errors"
	"sync/atomic"
	"testing"
)

// factory opens a fresh, empty store for a test; the store is closed at
// the end of the test.
type factory struct {
	name string
	open func(t testing.TB) Store
}

func openTestLevelDB(t testing.TB) *LevelDB {
	t.Helper()
	l, err := OpenLevelDB(t.TempDir(), LevelDBOptions{WriteBufferBytes: 1 << 20})
	if err != nil {
		t.Fatalf("OpenLevelDB: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func openTestMemory(t testing.TB) *Memory {
	m := NewMemory("mem")
	t.Cleanup(func() { m.Close() })
	return m
}

// factories are the stores the contract suite runs against: both base
// stores, and the cache over each with a large bound (data stays dirty), a
// tiny bound (constant eviction) and no buffering at all.
func factories() []factory {
	cached := func(maxBytes int, inner func(testing.TB) Store) func(testing.TB) Store {
		return func(t testing.TB) Store {
			c := NewCached(inner(t), maxBytes, nil)
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	level := func(t testing.TB) Store { return openTestLevelDB(t) }
	mem := func(t testing.TB) Store { return openTestMemory(t) }
	return []factory{
		{"LevelDB", level},
		{"Memory", mem},
		{"Cached/LevelDB/large", cached(1<<20, level)},
		{"Cached/LevelDB/tiny", cached(200, level)},
		{"Cached/Memory/large", cached(1<<20, mem)},
		{"Cached/Memory/none", cached(0, mem)},
		{"Segmented/LevelDB", func(t testing.TB) Store { return openTestSegmented(t, true) }},
		{"Segmented/Memory", func(t testing.TB) Store { return openTestSegmented(t, false) }},
		{"Cached/Segmented/tiny", cached(200, func(t testing.TB) Store { return openTestSegmented(t, true) })},
	}
}

type kv struct{ k, v string }

// collect drains an iterator into key/value pairs and closes it.
func collect(t testing.TB, it Iterator) []kv {
	t.Helper()
	var out []kv
	for it.Next() {
		out = append(out, kv{string(it.Key()), string(it.Value())})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterator error: %v", err)
	}
	if err := it.Close(); err != nil {
		t.Fatalf("iterator close: %v", err)
	}
	return out
}

func scan(t testing.TB, s Store, start, end []byte) []kv {
	t.Helper()
	it, err := s.Range(start, end)
	if err != nil {
		t.Fatalf("Range(%q, %q): %v", start, end, err)
	}
	return collect(t, it)
}

func reverseScan(t testing.TB, s Store, start, end []byte) []kv {
	t.Helper()
	r, ok := s.(Reverser)
	if !ok {
		t.Fatalf("%T is not a Reverser", s)
	}
	it, err := r.ReverseRange(start, end)
	if err != nil {
		t.Fatalf("ReverseRange(%q, %q): %v", start, end, err)
	}
	return collect(t, it)
}

func mustPut(t testing.TB, s Store, k, v string) {
	t.Helper()
	if err := s.Put([]byte(k), []byte(v)); err != nil {
		t.Fatalf("Put(%q): %v", k, err)
	}
}

func mustGet(t testing.TB, s Store, k string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get([]byte(k))
	if err != nil {
		t.Fatalf("Get(%q): %v", k, err)
	}
	if !ok && v != nil {
		t.Fatalf("Get(%q) missing but returned value %q", k, v)
	}
	return string(v), ok
}

func equalKVs(a, b []kv) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func reversed(in []kv) []kv {
	out := make([]kv, len(in))
	for i := range in {
		out[len(in)-1-i] = in[i]
	}
	return out
}

// failingStore is a Store whose Apply fails while fail is set, and which
// hides any Reverser of the store it wraps.
type failingStore struct {
	Store
	fail error
}

func (f *failingStore) Apply(b []Mutation) error {
	if f.fail != nil {
		return f.fail
	}
	return f.Store.Apply(b)
}

// countingStore counts the Gets that reach the store it wraps (and hides
// any Reverser of it).
type countingStore struct {
	Store
	gets atomic.Int64
}

func (c *countingStore) Get(key []byte) ([]byte, bool, error) {
	c.gets.Add(1)
	return c.Store.Get(key)
}

var errInjected = errors.New("injected failure")

func keysOf(ms []Mutation) [][]byte {
	out := make([][]byte, len(ms))
	for i := range ms {
		out[i] = ms[i].Key
	}
	return out
}

func sortedStrictly(keys [][]byte) bool {
	for i := 1; i < len(keys); i++ {
		if bytes.Compare(keys[i-1], keys[i]) >= 0 {
			return false
		}
	}
	return true
}
