package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// cacheModel checks a Cached store against a plain map through random
// operations, random flushes, flush failures (of onFlush, or of the inner
// store after writing part of the batch) and a small bound.
type cacheModel struct {
	t        *testing.T
	rng      *rand.Rand
	c        *Cached
	inner    Store
	maxBytes int

	state   map[string]string  // what the store must show
	pending map[string]*string // written since the last successful flush; nil = deleted
	emitted map[string]string  // the changelog as rebuilt from onFlush
	failing bool               // make the next flushes fail
	// failInner makes the failing flushes fail in the inner store's
	// Apply, after onFlush succeeded, instead of in onFlush.
	failInner bool
	flushes   int
	failures  failureCounts
	// innerGets counts Gets that reached the inner store.
	innerGets int
	cleanHits int // Gets the clean layers answered
	olderHits int // of which the older clean layers

	// Ranges start at step rangeFrom, and then each range slot ranges
	// with probability 1/rangeOdds (a Get otherwise), so that dirty sets
	// see many writes before and between the Ranges that index them.
	rangeFrom, rangeOdds int
	steps                int
	lazy                 lazyIndexCounts
}

// failureCounts counts the failed flushes by kind.
type failureCounts struct {
	onFlush      int
	innerNone    int // the inner store failed before writing anything
	innerPartial int // ... after writing some or all of it
}

// modelInner is the model's inner store: it counts Gets and, while the
// model fails the inner store, applies a random prefix of each batch and
// fails.
type modelInner struct {
	Store
	m *cacheModel
}

func (s modelInner) Get(key []byte) ([]byte, bool, error) {
	s.m.innerGets++
	return s.Store.Get(key)
}

func (s modelInner) Apply(batch []Mutation) error {
	m := s.m
	if !m.failing || !m.failInner {
		return s.Store.Apply(batch)
	}
	n := m.rng.IntN(len(batch) + 1)
	if err := s.Store.Apply(batch[:n]); err != nil {
		m.t.Fatalf("inner Apply: %v", err)
	}
	if n > 0 {
		m.failures.innerPartial++
	} else {
		m.failures.innerNone++
	}
	// onFlush took these as emitted; the cache keeps them dirty and will
	// emit them again. Nothing was written since onFlush.
	for _, e := range batch {
		if e.Delete {
			m.pending[string(e.Key)] = nil
		} else {
			v := string(e.Value)
			m.pending[string(e.Key)] = &v
		}
	}
	return errInjected
}

func (s modelInner) ReverseRange(start, end []byte) (Iterator, error) {
	return s.Store.(Reverser).ReverseRange(start, end)
}

// lazyIndexCounts counts how often the dirty set's ordered index was
// exercised in each of its states, so the test can tell it covered them.
type lazyIndexCounts struct {
	builds       int // a Range indexed a non-empty dirty set
	syncs        int // a Range indexed keys written since the last Range
	sortFlushes  int // a flush sorted a dirty set nobody had ranged
	indexFlushes int // a flush walked the index
}

// observe records the dirty set's index state before an operation that
// orders it.
func (m *cacheModel) observe(flush bool) {
	d := m.c.dirty
	switch {
	case d.len() == 0:
	case flush && d.index == nil:
		m.lazy.sortFlushes++
	case flush:
		m.lazy.indexFlushes++
	case d.index == nil:
		m.lazy.builds++
	case len(d.pending) > 0:
		m.lazy.syncs++
	}
}

func (m *cacheModel) onFlush(entries []Mutation) error {
	if m.failing && !m.failInner {
		m.failures.onFlush++
		return errInjected
	}
	t := m.t
	if !sortedStrictly(keysOf(entries)) {
		t.Fatalf("flush %d not in strict key order: %s", m.flushes, render(entries))
	}
	if len(entries) != len(m.pending) {
		t.Fatalf("flush %d has %d entries, want the %d keys written since the last flush", m.flushes, len(entries), len(m.pending))
	}
	for _, e := range entries {
		want, ok := m.pending[string(e.Key)]
		switch {
		case !ok:
			t.Fatalf("flush %d emitted %q, not written since the last flush", m.flushes, e.Key)
		case want == nil && !e.Delete:
			t.Fatalf("flush %d: %q=%q, want a deletion", m.flushes, e.Key, e.Value)
		case want != nil && (e.Delete || string(e.Value) != *want):
			t.Fatalf("flush %d: %q=%q (delete %v), want its last value %q", m.flushes, e.Key, e.Value, e.Delete, *want)
		}
		if e.Delete {
			delete(m.emitted, string(e.Key))
		} else {
			m.emitted[string(e.Key)] = string(e.Value)
		}
	}
	m.pending = map[string]*string{}
	m.flushes++
	return nil
}

func (m *cacheModel) key() []byte {
	// A small key space, so keys are overwritten and deleted often, with
	// the bytes most likely to break ordering.
	n := m.rng.IntN(40)
	switch n % 4 {
	case 0:
		return []byte{byte(n)}
	case 1:
		return []byte{0xFF, byte(n), 0x00}
	case 2:
		return []byte{0x00, byte(n)}
	default:
		return fmt.Appendf(nil, "k%02d", n)
	}
}

func (m *cacheModel) value() []byte {
	v := make([]byte, m.rng.IntN(40))
	for i := range v {
		v[i] = byte(m.rng.IntN(256))
	}
	return v
}

// write applies ms to the model, then to the store through do: the model
// must know the write before an eviction inside do emits it.
func (m *cacheModel) write(do func() error, ms ...Mutation) {
	for _, mu := range ms {
		k := string(mu.Key)
		if mu.Delete {
			delete(m.state, k)
			m.pending[k] = nil
		} else {
			v := string(mu.Value)
			m.state[k] = v
			m.pending[k] = &v
		}
	}
	err := do()
	if err != nil && !(m.failing && errors.Is(err, errInjected)) {
		m.t.Fatalf("write failed: %v", err)
	}
	m.checkClean(err)
	if got := m.c.DirtyBytes(); !m.failing && got > m.maxBytes {
		m.t.Fatalf("dirty bytes %d over the bound %d after a write", got, m.maxBytes)
	}
}

func (m *cacheModel) sortedState(start, end []byte) []kv {
	var out []kv
	for k, v := range m.state {
		if (start == nil || k >= string(start)) && (end == nil || k < string(end)) {
			out = append(out, kv{k, v})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
	return out
}

func (m *cacheModel) step() {
	t, c := m.t, m.c
	m.steps++
	switch op := m.rng.IntN(100); {
	case op < 35:
		k, v := m.key(), m.value()
		m.write(func() error { return c.Put(k, v) }, Mutation{Key: k, Value: v})
	case op < 45:
		// A read-modify-write: f must see what the store shows.
		k := m.key()
		old, found := m.state[string(k)]
		v := m.value()
		if found {
			v = append([]byte(old[:min(len(old), 20)]), v...)
		}
		update := func(got []byte, ok bool) ([]byte, error) {
			if ok != found || string(got) != old {
				t.Fatalf("Update(%x) saw %x, %v; want %x, %v", k, got, ok, old, found)
			}
			return v, nil
		}
		m.write(func() error { return c.Update(k, update) }, Mutation{Key: k, Value: v})
	case op < 55:
		k := m.key()
		m.write(func() error { return c.Delete(k) }, Mutation{Key: k, Delete: true})
	case op < 60:
		batch := make([]Mutation, m.rng.IntN(8))
		for i := range batch {
			batch[i] = Mutation{Key: m.key(), Value: m.value(), Delete: m.rng.IntN(3) == 0}
		}
		m.write(func() error { return c.Apply(batch) }, batch...)
	case op < 80 || op < 90 && (m.steps < m.rangeFrom || m.rangeOdds > 1 && m.rng.IntN(m.rangeOdds) != 0):
		m.checkGet(m.key())
	case op < 90:
		m.checkRange()
	case op < 97:
		m.observe(true)
		err := c.FlushCache()
		switch {
		case m.failing && c.DirtyLen() > 0 && !errors.Is(err, errInjected):
			t.Fatalf("FlushCache while flushes fail = %v", err)
		case !m.failing && err != nil:
			t.Fatalf("FlushCache: %v", err)
		case !m.failing:
			m.checkInner()
		}
		m.checkClean(err)
	case m.failing:
		// Already inside a failing stretch.
	default:
		// The next few writes' evictions and this flush fail.
		m.failing, m.failInner = true, m.rng.IntN(2) == 0
		m.observe(true)
		err := c.FlushCache()
		if c.DirtyLen() > 0 && !errors.Is(err, errInjected) {
			t.Fatalf("failing FlushCache = %v", err)
		}
		m.checkClean(err)
		for range m.rng.IntN(5) {
			m.step()
		}
		m.failing = false
	}
}

// checkClean checks the clean layer after an operation that may have
// flushed: none if a flush failed, else each of its entries as in the
// inner store.
func (m *cacheModel) checkClean(flushErr error) {
	c := m.c
	if c.inFlush {
		m.t.Fatal("flush still in progress after FlushCache returned")
	}
	if flushErr != nil && (c.prev != nil || c.older != nil) {
		m.t.Fatalf("clean layers kept after a failed flush: %v", flushErr)
	}
	for _, layer := range []*dirtySet{c.prev, c.older} {
		if layer == nil {
			continue
		}
		for k, e := range layer.entries {
			if layer == c.older && c.prev != nil {
				if _, shadowed := c.prev.get([]byte(k)); shadowed {
					continue
				}
			}
			v, ok, err := m.inner.Get([]byte(k))
			if err != nil || ok == e.Delete || ok && !bytes.Equal(v, e.Value) {
				m.t.Fatalf("clean layer has %x = %x (delete %v), inner store %x, %v, %v", k, e.Value, e.Delete, v, ok, err)
			}
		}
	}
}

func (m *cacheModel) checkGet(k []byte) {
	c := m.c
	_, dirty := c.dirty.get(k)
	clean := false
	if c.prev != nil && !dirty {
		_, clean = c.prev.get(k)
	}
	if c.older != nil && !dirty && !clean {
		_, clean = c.older.get(k)
		if clean {
			m.olderHits++
		}
	}
	innerGets := m.innerGets
	v, ok, err := c.Get(k)
	want, wantOK := m.state[string(k)]
	if err != nil || ok != wantOK || string(v) != want {
		m.t.Fatalf("Get(%x) = %x, %v, %v; want %x, %v (clean layer %v)", k, v, ok, err, want, wantOK, clean)
	}
	if clean {
		m.cleanHits++
		if m.innerGets != innerGets {
			m.t.Fatalf("Get(%x) answered by the clean layer reached the inner store", k)
		}
	}
}

func (m *cacheModel) checkRange() {
	t, c := m.t, m.c
	start, end := m.key(), m.key()
	if m.rng.IntN(4) == 0 {
		start = nil
	}
	if m.rng.IntN(4) == 0 {
		end = nil
	}
	want := m.sortedState(start, end)
	if end != nil && bytes.Compare(start, end) >= 0 {
		want = nil
	}
	m.observe(false)
	if got := scan(t, c, start, end); !equalKVs(got, want) {
		t.Fatalf("Range(%x, %x) = %q, want %q", start, end, got, want)
	}
	if got := reverseScan(t, c, start, end); !equalKVs(got, reversed(want)) {
		t.Fatalf("ReverseRange(%x, %x) = %q, want %q", start, end, got, reversed(want))
	}
}

// checkInner compares the inner store with the model after a flush: it
// must hold exactly what onFlush emitted, which is the model's state.
func (m *cacheModel) checkInner() {
	got := scan(m.t, m.inner, nil, nil)
	want := m.sortedState(nil, nil)
	if !equalKVs(got, want) {
		m.t.Fatalf("after flush %d inner store = %q\nwant %q", m.flushes, got, want)
	}
	if len(m.emitted) != len(want) {
		m.t.Fatalf("changelog rebuilt from onFlush has %d keys, store %d", len(m.emitted), len(want))
	}
	for _, e := range want {
		if m.emitted[e.k] != e.v {
			m.t.Fatalf("changelog has %q=%q, store %q", e.k, m.emitted[e.k], e.v)
		}
	}
}

// TestCachedAgainstModel runs the model on both inner stores, with Ranges
// in a tenth of the steps (dirty sets are usually indexed soon after a
// flush), rarely (they are indexed after many writes, and often flushed
// unindexed) or only after 2,000 steps of point operations.
func TestCachedAgainstModel(t *testing.T) {
	rangings := []struct {
		name                 string
		rangeFrom, rangeOdds int
	}{
		{"rangeOften", 0, 1},
		{"rangeRarely", 0, 4},
		{"rangeLate", 2000, 1},
	}
	for _, innerName := range []string{"Memory", "LevelDB"} {
		for _, r := range rangings {
			for seed := range uint64(4) {
				t.Run(fmt.Sprintf("%s/%s/seed%d", innerName, r.name, seed), func(t *testing.T) {
					var inner Store = openTestMemory(t)
					if innerName == "LevelDB" {
						inner = openTestLevelDB(t)
					}
					m := &cacheModel{
						t:         t,
						rng:       rand.New(rand.NewPCG(seed, 0xedd1)),
						inner:     inner,
						maxBytes:  300 + int(seed)*400,
						state:     map[string]string{},
						pending:   map[string]*string{},
						emitted:   map[string]string{},
						rangeFrom: r.rangeFrom,
						rangeOdds: r.rangeOdds,
					}
					m.c = NewCached(modelInner{inner, m}, m.maxBytes, m.onFlush)
					for range 3000 {
						m.step()
					}
					if err := m.c.Flush(); err != nil {
						t.Fatal(err)
					}
					m.checkInner()
					if m.flushes < 20 {
						t.Fatalf("only %d successful flushes: the test did not exercise eviction", m.flushes)
					}
					if l := m.lazy; l.builds == 0 || l.syncs == 0 || l.sortFlushes == 0 || l.indexFlushes == 0 {
						t.Fatalf("the dirty set's lazy index was not exercised in every state: %+v", l)
					}
					if f := m.failures; f.onFlush == 0 || f.innerNone == 0 || f.innerPartial == 0 || m.cleanHits < 20 || m.olderHits == 0 {
						t.Fatalf("failures %+v, %d clean hits (%d older): not every kind of failure, or too few clean hits", f, m.cleanHits, m.olderHits)
					}
					t.Logf("%d flushes, lazy index %+v, failures %+v, %d clean hits (%d older)", m.flushes, m.lazy, m.failures, m.cleanHits, m.olderHits)
				})
			}
		}
	}
}
