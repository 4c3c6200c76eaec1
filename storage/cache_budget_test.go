package storage

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSharedCacheBudget: a store may grow beyond its share while the
// others leave budget unused, evicts once the stores together are over
// the budget, and a store within its share never evicts because of the
// others. Closing a store gives its budget back.
func TestSharedCacheBudget(t *testing.T) {
	const share = 64 << 10
	budget := NewCacheBudget(4 * share)
	flushes := map[string]int{}
	open := func(name string) *Cached {
		return NewSharedCached(NewMemory(name), budget, share, func(ms []Mutation) error {
			flushes[name]++
			return nil
		})
	}
	busy, quiet := open("busy"), open("quiet")
	value := make([]byte, 1000)
	put := func(c *Cached, i int) {
		t.Helper()
		if err := c.Put(fmt.Appendf(nil, "k%06d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	// Three shares' worth in one store: within the budget, no eviction.
	i := 0
	for ; busy.DirtyBytes() < 3*share; i++ {
		put(busy, i)
	}
	if flushes["busy"] != 0 {
		t.Fatalf("busy flushed %d times with %d of %d budget bytes used", flushes["busy"], budget.Reserved(), 4*share)
	}
	// The quiet store stays within its share: it never evicts, though the
	// budget is now nearly all used.
	for j := 0; quiet.DirtyBytes() < share-2000; j++ {
		put(quiet, j)
	}
	if flushes["quiet"] != 0 {
		t.Fatalf("quiet store, within its share, flushed %d times", flushes["quiet"])
	}
	// Past the budget, the store beyond its share evicts.
	for ; flushes["busy"] == 0 && i < 1000; i++ {
		put(busy, i)
	}
	if flushes["busy"] != 1 || busy.DirtyLen() != 0 {
		t.Fatalf("busy: %d flushes, %d dirty keys after going over the budget", flushes["busy"], busy.DirtyLen())
	}
	if got := budget.Reserved(); got < int64(quiet.DirtyBytes()) || got > int64(quiet.DirtyBytes())+2*reserveStep {
		t.Fatalf("reserved %d bytes with %d dirty in quiet and none in busy", got, quiet.DirtyBytes())
	}
	if err := quiet.Close(); err != nil {
		t.Fatal(err)
	}
	if err := busy.Close(); err != nil {
		t.Fatal(err)
	}
	if got := budget.Reserved(); got != 0 {
		t.Fatalf("%d bytes still reserved after both stores closed", got)
	}
}

// TestPrivateBudgetEvictsAtMaxBytes: NewCached's own budget behaves as a
// plain bound: the dirty set never passes maxBytes by more than a write.
func TestPrivateBudgetEvictsAtMaxBytes(t *testing.T) {
	flushes := 0
	c := NewCached(NewMemory("s"), 10_000, func([]Mutation) error { flushes++; return nil })
	for i := range 100 {
		if err := c.Put(fmt.Appendf(nil, "k%03d", i), make([]byte, 500)); err != nil {
			t.Fatal(err)
		}
		if c.DirtyBytes() > 10_000 {
			t.Fatalf("%d dirty bytes after put %d, bound 10000", c.DirtyBytes(), i)
		}
	}
	if flushes == 0 {
		t.Fatal("no eviction")
	}
}

// TestPutReusesValueBufferSafely: a Put of a dirty key may write the new
// value into the old one's buffer; what Get returned and what an open Range
// iterator holds must not change with it.
func TestPutReusesValueBufferSafely(t *testing.T) {
	c := NewCached(NewMemory("s"), 1<<20, nil)
	key := []byte("k")
	if err := c.Put(key, []byte("first")); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if err := c.Put(key, []byte("again")); err != nil { // same length: same buffer
		t.Fatal(err)
	}
	if string(got) != "first" {
		t.Fatalf("value from Get changed to %q by a later Put", got)
	}
	if !it.Next() || string(it.Value()) != "first" {
		t.Fatalf("open iterator sees %q, want the value as of the Range", it.Value())
	}
	if now, _, _ := c.Get(key); string(now) != "again" {
		t.Fatalf("Get after the second Put = %q", now)
	}
}

// TestUnorderedFlush: with SetUnorderedFlush a flush still hands every
// entry over once, and a Range during the flush (from onFlush) still sees
// the entries being flushed in key order, merged with the inner store.
func TestUnorderedFlush(t *testing.T) {
	inner := NewMemory("s")
	if err := inner.Apply([]Mutation{{Key: []byte("k050"), Value: []byte("inner")}}); err != nil {
		t.Fatal(err)
	}
	var c *Cached
	var flushed int
	var ranged []string
	c = NewCached(inner, 1<<20, func(ms []Mutation) error {
		flushed += len(ms)
		it, err := c.Range([]byte("k040"), []byte("k060"))
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
			ranged = append(ranged, string(it.Key()))
		}
		return it.Err()
	})
	c.SetUnorderedFlush(true)
	for _, i := range rand.Perm(100) {
		if i == 50 {
			continue
		}
		if err := c.Put(fmt.Appendf(nil, "k%03d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if flushed != 99 {
		t.Fatalf("flush handed over %d entries, want 99", flushed)
	}
	var want []string
	for i := 40; i < 60; i++ {
		want = append(want, fmt.Sprintf("k%03d", i))
	}
	if !slices.Equal(ranged, want) {
		t.Fatalf("Range during the flush: %v, want %v", ranged, want)
	}
}
