package storage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// flushLog records what a Cached store emitted.
type flushLog struct {
	flushes [][]Mutation
	fail    error
}

func (l *flushLog) onFlush(entries []Mutation) error {
	if l.fail != nil {
		return l.fail
	}
	l.flushes = append(l.flushes, entries)
	return nil
}

func render(ms []Mutation) string {
	var b strings.Builder
	for _, m := range ms {
		if m.Delete {
			fmt.Fprintf(&b, "%s:del ", m.Key)
		} else {
			fmt.Fprintf(&b, "%s=%s ", m.Key, m.Value)
		}
	}
	return strings.TrimSpace(b.String())
}

func TestCachedCollapsesUpdatesIntoOneFlush(t *testing.T) {
	inner := openTestMemory(t)
	mustPut(t, inner, "x", "old")
	var log flushLog
	c := NewCached(inner, 1<<20, log.onFlush)
	for i := range 100 {
		mustPut(t, c, "b", fmt.Sprint(i))
		mustPut(t, c, "a", fmt.Sprint(i*2))
	}
	if err := c.Delete([]byte("x")); err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "c", "gone soon")
	if err := c.Delete([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if len(log.flushes) != 0 {
		t.Fatalf("flushed before FlushCache: %v", log.flushes)
	}
	if v, ok := mustGet(t, inner, "x"); !ok || v != "old" {
		t.Fatalf("inner store written before flush: x=%q %v", v, ok)
	}
	if c.DirtyLen() != 4 {
		t.Fatalf("DirtyLen = %d, want 4", c.DirtyLen())
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(log.flushes) != 1 {
		t.Fatalf("%d flush calls, want 1", len(log.flushes))
	}
	if got, want := render(log.flushes[0]), "a=198 b=99 c:del x:del"; got != want {
		t.Fatalf("flushed %q, want %q", got, want)
	}
	if got := scan(t, inner, nil, nil); !equalKVs(got, []kv{{"a", "198"}, {"b", "99"}}) {
		t.Fatalf("inner after flush = %v", got)
	}
	if c.DirtyLen() != 0 || c.DirtyBytes() != 0 {
		t.Fatalf("dirty after flush: %d keys, %d bytes", c.DirtyLen(), c.DirtyBytes())
	}
	if err := c.FlushCache(); err != nil || len(log.flushes) != 1 {
		t.Fatalf("empty FlushCache called onFlush (err %v)", err)
	}
}

func TestCachedRangeMergesLayers(t *testing.T) {
	for _, innerName := range []string{"Memory", "LevelDB"} {
		t.Run(innerName, func(t *testing.T) {
			var inner Store = openTestMemory(t)
			if innerName == "LevelDB" {
				inner = openTestLevelDB(t)
			}
			for _, k := range []string{"a", "c", "e", "g", "i"} {
				mustPut(t, inner, k, "inner")
			}
			c := NewCached(inner, 1<<20, nil)
			mustPut(t, c, "b", "dirty")                   // new key between inner keys
			mustPut(t, c, "c", "dirty")                   // shadows inner
			mustPut(t, c, "j", "dirty")                   // after the last inner key
			mustPut(t, c, "0", "dirty")                   // before the first
			if err := c.Delete([]byte("e")); err != nil { // hides inner
				t.Fatal(err)
			}
			if err := c.Delete([]byte("zz")); err != nil { // hides nothing
				t.Fatal(err)
			}
			want := []kv{{"0", "dirty"}, {"a", "inner"}, {"b", "dirty"}, {"c", "dirty"},
				{"g", "inner"}, {"i", "inner"}, {"j", "dirty"}}
			if got := scan(t, c, nil, nil); !equalKVs(got, want) {
				t.Fatalf("merged scan = %v\nwant %v", got, want)
			}
			if got := reverseScan(t, c, nil, nil); !equalKVs(got, reversed(want)) {
				t.Fatalf("merged reverse scan = %v", got)
			}
			if got := scan(t, c, []byte("b"), []byte("h")); !equalKVs(got, want[2:5]) {
				t.Fatalf("merged scan [b,h) = %v", got)
			}
			if got := reverseScan(t, c, []byte("c"), []byte("j")); !equalKVs(got, reversed(want[3:6])) {
				t.Fatalf("merged reverse scan [c,j) = %v", got)
			}
			if _, ok := mustGet(t, c, "e"); ok {
				t.Fatal("deleted key e visible through Get")
			}
			if v, _ := mustGet(t, c, "g"); v != "inner" {
				t.Fatalf("Get(g) = %q, want inner", v)
			}
			if err := c.FlushCache(); err != nil {
				t.Fatal(err)
			}
			if got := scan(t, inner, nil, nil); !equalKVs(got, want) {
				t.Fatalf("inner after flush = %v", got)
			}
		})
	}
}

func TestCachedFailedFlushKeepsEntriesDirty(t *testing.T) {
	inner := openTestMemory(t)
	log := &flushLog{fail: errInjected}
	c := NewCached(inner, 1<<20, log.onFlush)
	mustPut(t, c, "a", "1")
	mustPut(t, c, "b", "1")
	err := c.FlushCache()
	if !errors.Is(err, errInjected) {
		t.Fatalf("FlushCache = %v, want the callback's error", err)
	}
	if inner.Len() != 0 {
		t.Fatal("inner store written although onFlush failed")
	}
	mustPut(t, c, "b", "2") // newer than the failed flush's entry
	if v, _ := mustGet(t, c, "a"); v != "1" {
		t.Fatalf("a lost by failed flush: %q", v)
	}
	log.fail = nil
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if got := render(log.flushes[0]); got != "a=1 b=2" {
		t.Fatalf("retry flushed %q, want a=1 b=2", got)
	}

	// The inner store failing after the callback succeeded: entries are
	// kept and emitted again (at least once).
	failing := &failingStore{Store: openTestMemory(t), fail: errInjected}
	log2 := &flushLog{}
	c2 := NewCached(failing, 1<<20, log2.onFlush)
	mustPut(t, c2, "k", "v")
	if err := c2.FlushCache(); !errors.Is(err, errInjected) {
		t.Fatalf("FlushCache with failing inner = %v", err)
	}
	failing.fail = nil
	if err := c2.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(log2.flushes) != 2 || render(log2.flushes[1]) != "k=v" {
		t.Fatalf("flushes %v, want k=v emitted twice", log2.flushes)
	}
	if v, _ := mustGet(t, failing.Store, "k"); v != "v" {
		t.Fatalf("inner k = %q after retry", v)
	}
}

func TestCachedReentrantCallback(t *testing.T) {
	inner := openTestMemory(t)
	var c *Cached
	var emitted []string
	var during []string
	c = NewCached(inner, 1<<20, func(entries []Mutation) error {
		emitted = append(emitted, render(entries))
		if len(emitted) > 1 {
			return nil
		}
		// A downstream processor reads the store and writes back to it.
		v, ok := mustGet(t, c, "a")
		during = append(during, fmt.Sprintf("a=%s/%v", v, ok))
		_, ok = mustGet(t, c, "gone")
		during = append(during, fmt.Sprintf("gone/%v", ok))
		during = append(during, fmt.Sprint(scan(t, c, nil, nil)))
		mustPut(t, c, "a", "from-callback")
		mustPut(t, c, "z", "from-callback")
		if err := c.FlushCache(); !errors.Is(err, ErrFlushInProgress) {
			t.Errorf("re-entrant FlushCache = %v, want ErrFlushInProgress", err)
		}
		return nil
	})
	mustPut(t, inner, "gone", "inner")
	mustPut(t, c, "a", "1")
	if err := c.Delete([]byte("gone")); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a=1/true", "gone/false", "[{a 1}]"}
	if fmt.Sprint(during) != fmt.Sprint(want) {
		t.Fatalf("reads during the callback = %v, want %v", during, want)
	}
	if v, _ := mustGet(t, c, "a"); v != "from-callback" {
		t.Fatalf("write from callback lost: a=%q", v)
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(emitted) != 2 || emitted[1] != "a=from-callback z=from-callback" {
		t.Fatalf("emitted %q", emitted)
	}
}

func TestCachedCallbackPanicKeepsEntries(t *testing.T) {
	inner := openTestMemory(t)
	calls := 0
	c := NewCached(inner, 1<<20, func([]Mutation) error {
		calls++
		if calls == 1 {
			panic("downstream bug")
		}
		return nil
	})
	mustPut(t, c, "a", "1")
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic in onFlush was swallowed")
			}
		}()
		c.FlushCache()
	}()
	if c.DirtyLen() != 1 {
		t.Fatalf("entries lost by panicking flush: %d dirty", c.DirtyLen())
	}
	if err := c.FlushCache(); err != nil {
		t.Fatalf("flush after a panicking one: %v", err)
	}
	if v, _ := mustGet(t, inner, "a"); v != "1" {
		t.Fatalf("inner a = %q", v)
	}
}

func TestCachedEvictionBoundsMemory(t *testing.T) {
	const maxBytes = 1000
	inner := openTestMemory(t)
	var log flushLog
	c := NewCached(inner, maxBytes, log.onFlush)
	for i := range 500 {
		mustPut(t, c, fmt.Sprintf("key-%03d", i%40), strings.Repeat("v", i%50))
		if c.DirtyBytes() > maxBytes {
			t.Fatalf("after write %d dirty bytes %d > bound %d", i, c.DirtyBytes(), maxBytes)
		}
	}
	if len(log.flushes) < 10 {
		t.Fatalf("only %d evictions for ~50 KB written through a 1 KB cache", len(log.flushes))
	}
	for _, f := range log.flushes {
		if !sortedStrictly(keysOf(f)) {
			t.Fatalf("eviction flush not in strict key order: %s", render(f))
		}
	}
	// Eviction failure is reported by the write that caused it; the write
	// itself is kept.
	log.fail = errInjected
	var err error
	for i := 0; err == nil && i < 100; i++ {
		err = c.Put([]byte(fmt.Sprintf("f%d", i)), []byte(strings.Repeat("x", 100)))
	}
	if !errors.Is(err, errInjected) {
		t.Fatalf("eviction failure not reported: %v", err)
	}
	log.fail = nil
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, inner, "f0"); !ok {
		t.Fatal("write whose eviction failed was lost")
	}
}

func TestCachedZeroBoundWritesThrough(t *testing.T) {
	inner := openTestMemory(t)
	var log flushLog
	c := NewCached(inner, 0, log.onFlush)
	mustPut(t, c, "a", "1")
	mustPut(t, c, "a", "2")
	if len(log.flushes) != 2 || render(log.flushes[1]) != "a=2" {
		t.Fatalf("flushes %v, want one per write", log.flushes)
	}
	if v, _ := mustGet(t, inner, "a"); v != "2" {
		t.Fatalf("inner a = %q", v)
	}
}

func TestCachedCloseFlushesAbandonDrops(t *testing.T) {
	inner := openTestMemory(t)
	var log flushLog
	c := NewCached(inner, 1<<20, log.onFlush)
	mustPut(t, c, "a", "1")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if len(log.flushes) != 1 || render(log.flushes[0]) != "a=1" {
		t.Fatalf("Close emitted %v", log.flushes)
	}
	if _, _, err := inner.Get([]byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("inner not closed by Close: %v", err)
	}

	inner2 := openTestMemory(t)
	var log2 flushLog
	c2 := NewCached(inner2, 1<<20, log2.onFlush)
	mustPut(t, c2, "a", "1")
	if err := c2.Abandon(); err != nil {
		t.Fatal(err)
	}
	if len(log2.flushes) != 0 {
		t.Fatalf("Abandon emitted %v", log2.flushes)
	}
	if _, _, err := c2.Get([]byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Abandon: %v", err)
	}
}

func TestCachedReverseNeedsReverser(t *testing.T) {
	c := NewCached(&failingStore{Store: openTestMemory(t)}, 100, nil)
	if _, err := c.ReverseRange(nil, nil); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ReverseRange over a non-Reverser = %v, want ErrUnsupported", err)
	}
	if c.Inner() == nil || c.Name() != "mem" {
		t.Fatalf("Inner/Name wrong: %v %q", c.Inner(), c.Name())
	}
}

func TestCachedFailedFlushKeepsNewerCallbackWrites(t *testing.T) {
	inner := openTestMemory(t)
	var c *Cached
	fail := true
	var emitted []string
	c = NewCached(inner, 1<<20, func(entries []Mutation) error {
		if fail {
			mustPut(t, c, "a", "newer") // written while a=old is being flushed
			return errInjected
		}
		emitted = append(emitted, render(entries))
		return nil
	})
	mustPut(t, c, "a", "old")
	mustPut(t, c, "b", "1")
	if err := c.FlushCache(); !errors.Is(err, errInjected) {
		t.Fatalf("FlushCache = %v", err)
	}
	if v, _ := mustGet(t, c, "a"); v != "newer" {
		t.Fatalf("failed flush put back an older value: a=%q", v)
	}
	want := 2*entryOverhead + len("a") + len("newer") + len("b") + len("1")
	if c.DirtyBytes() != want {
		t.Fatalf("DirtyBytes = %d, want %d", c.DirtyBytes(), want)
	}
	fail = false
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(emitted) != 1 || emitted[0] != "a=newer b=1" {
		t.Fatalf("emitted %q", emitted)
	}
}

// TestCachedFailedFlushRestoresIntoIndexedDirtySet fails a flush after the
// callback wrote to the store and ranged over it, so the entries returning
// to the dirty set must join an ordered index that already exists.
func TestCachedFailedFlushRestoresIntoIndexedDirtySet(t *testing.T) {
	inner := openTestMemory(t)
	mustPut(t, inner, "d", "inner")
	var c *Cached
	fail := true
	var emitted []string
	c = NewCached(inner, 1<<20, func(entries []Mutation) error {
		if fail {
			mustPut(t, c, "c", "callback")
			if got := scan(t, c, nil, nil); !equalKVs(got, []kv{{"a", "old"}, {"b", "1"}, {"c", "callback"}, {"d", "inner"}}) {
				t.Errorf("scan during the callback = %v", got)
			}
			mustPut(t, c, "a", "newer")
			return errInjected
		}
		emitted = append(emitted, render(entries))
		return nil
	})
	mustPut(t, c, "b", "1")
	mustPut(t, c, "a", "old")
	if err := c.FlushCache(); !errors.Is(err, errInjected) {
		t.Fatalf("FlushCache = %v", err)
	}
	want := []kv{{"a", "newer"}, {"b", "1"}, {"c", "callback"}, {"d", "inner"}}
	if got := scan(t, c, nil, nil); !equalKVs(got, want) {
		t.Fatalf("scan after the failed flush = %v\nwant %v", got, want)
	}
	if got := reverseScan(t, c, []byte("b"), nil); !equalKVs(got, reversed(want[1:])) {
		t.Fatalf("reverse scan [b, nil) after the failed flush = %v", got)
	}
	if c.DirtyLen() != 3 {
		t.Fatalf("DirtyLen = %d, want 3", c.DirtyLen())
	}
	fail = false
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(emitted) != 1 || emitted[0] != "a=newer b=1 c=callback" {
		t.Fatalf("emitted %q", emitted)
	}
}

// TestCachedCleanLayer checks that Gets after a flush are answered from
// the flushed entries without reaching the inner store, until the next
// flush replaces them or a failed one drops them.
func TestCachedCleanLayer(t *testing.T) {
	failing := &failingStore{Store: openTestMemory(t)}
	inner := &countingStore{Store: failing}
	mustPut(t, failing.Store, "x", "inner")
	mustPut(t, failing.Store, "y", "inner")
	c := NewCached(inner, 1<<20, nil)
	mustPut(t, c, "a", "1")
	mustPut(t, c, "b", "1")
	if err := c.Delete([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if c.DirtyLen() != 0 || c.DirtyBytes() != 0 {
		t.Fatalf("dirty after flush: %d keys, %d bytes", c.DirtyLen(), c.DirtyBytes())
	}
	v, ok, err := c.Get([]byte("a"))
	if err != nil || !ok || string(v) != "1" {
		t.Fatalf("Get(a) = %q, %v, %v", v, ok, err)
	}
	v[0] = 'X' // the caller's copy
	if v, _ := mustGet(t, c, "a"); v != "1" {
		t.Fatalf("Get(a) after modifying a returned value = %q", v)
	}
	if _, ok := mustGet(t, c, "x"); ok {
		t.Fatal("x deleted by the flush is visible")
	}
	if n := inner.gets.Load(); n != 0 {
		t.Fatalf("%d Gets of flushed keys reached the inner store", n)
	}
	if v, _ := mustGet(t, c, "y"); v != "inner" || inner.gets.Load() != 1 {
		t.Fatalf("Get(y) = %q with %d inner Gets, want inner's value read once", v, inner.gets.Load())
	}
	if got := scan(t, c, nil, nil); !equalKVs(got, []kv{{"a", "1"}, {"b", "1"}, {"y", "inner"}}) {
		t.Fatalf("scan after flush = %v", got)
	}

	// The next flush's entries become the clean layer and the last ones
	// join the older layers: a, not rewritten, comes from those, b from
	// the new layer, neither from the inner store.
	mustPut(t, c, "b", "2")
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	before := inner.gets.Load()
	if v, _ := mustGet(t, c, "a"); v != "1" || inner.gets.Load() != before {
		t.Fatalf("Get(a) = %q with %d inner Gets, want it from the older clean layers", v, inner.gets.Load()-before)
	}
	if v, _ := mustGet(t, c, "b"); v != "2" || inner.gets.Load() != before {
		t.Fatalf("Get(b) = %q, or it reached the inner store", v)
	}

	// A failed flush drops the layers: b is read from the inner store.
	mustPut(t, c, "c", "3")
	failing.fail = errInjected
	if err := c.FlushCache(); !errors.Is(err, errInjected) {
		t.Fatalf("FlushCache with failing inner = %v", err)
	}
	before = inner.gets.Load()
	if v, _ := mustGet(t, c, "b"); v != "2" || inner.gets.Load() != before+1 {
		t.Fatalf("Get(b) = %q after a failed flush, with %d inner Gets; want one", v, inner.gets.Load()-before)
	}
	if v, _ := mustGet(t, c, "c"); v != "3" {
		t.Fatalf("Get(c) = %q after a failed flush", v)
	}
	failing.fail = nil
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if c.prev == nil || c.prev.len() != 1 || c.older != nil {
		t.Fatal("not just a clean layer of c after the retried flush")
	}
	before = inner.gets.Load()
	if v, _ := mustGet(t, c, "b"); v != "2" || inner.gets.Load() != before+1 {
		t.Fatalf("Get(b) = %q after the retried flush, with %d inner Gets; want one", v, inner.gets.Load()-before)
	}
	if err := c.Abandon(); err != nil {
		t.Fatal(err)
	}
	if c.prev != nil || c.older != nil {
		t.Fatal("Abandon kept a clean layer")
	}
}

// TestCachedCleanLayerDuringFlush reads, from onFlush, keys of the last
// flush: one this flush does not rewrite comes from the older clean layers
// (the inner store holds the same), one it rewrites from the entries being
// flushed; neither reaches the inner store.
func TestCachedCleanLayerDuringFlush(t *testing.T) {
	inner := &countingStore{Store: openTestMemory(t)}
	var c *Cached
	var during []string
	c = NewCached(inner, 1<<20, func(entries []Mutation) error {
		if render(entries) == "b=2" {
			v, _ := mustGet(t, c, "a")
			w, _ := mustGet(t, c, "b")
			during = append(during, "a="+v, "b="+w, fmt.Sprint(inner.gets.Load()))
		}
		return nil
	})
	mustPut(t, c, "a", "1")
	mustPut(t, c, "b", "1")
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "b", "2")
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(during) != "[a=1 b=2 0]" {
		t.Fatalf("reads during the second flush = %v, want a from the older clean layers, b being flushed", during)
	}
}

// TestCachedCleanLayerHonoursExpiry flushes, over a segmented store, a key
// that the same flush expires: the segmented store skips it, and Get must
// not find it in the clean layer either.
func TestCachedCleanLayerHonoursExpiry(t *testing.T) {
	seg, err := NewSegmentedMemory(timeKeyOptions(10, 100))
	if err != nil {
		t.Fatal(err)
	}
	c := NewCached(seg, 1<<20, nil)
	t.Cleanup(func() { c.Close() })
	old, live := timeKey(0, "old"), timeKey(1000, "new")
	meta := []byte("m-meta")
	for _, k := range [][]byte{old, live, meta} {
		if err := c.Put(k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := mustGet(t, c, string(old)); !ok {
		t.Fatal("dirty key not visible before the flush")
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, seg, string(old)); ok {
		t.Fatal("the segmented store kept a key the flush expired")
	}
	if _, ok := mustGet(t, c, string(old)); ok {
		t.Fatal("the clean layer revived a key the inner store expired")
	}
	for _, k := range [][]byte{live, meta} {
		if v, ok := mustGet(t, c, string(k)); !ok || v != "v" {
			t.Fatalf("Get(%q) = %q, %v after the flush", k, v, ok)
		}
	}
	if got := scan(t, c, nil, nil); !equalKVs(got, []kv{{string(meta), "v"}, {string(live), "v"}}) {
		t.Fatalf("scan = %q", got)
	}
}

// TestCachedGetInto checks GetInto appends what Get returns, from every
// layer, without touching the buffer's prefix, and keeps "empty" apart
// from "missing".
func TestCachedGetInto(t *testing.T) {
	inner := openTestMemory(t)
	if err := inner.Put([]byte("i"), []byte("inner")); err != nil {
		t.Fatal(err)
	}
	c := NewCached(inner, 1<<20, nil)
	mustPut(t, c, "clean", "c")
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	mustPut(t, c, "d", "dirty")
	mustPut(t, c, "e", "")
	var bg BufferedGetter = c
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{{"d", "dirty", true}, {"clean", "c", true}, {"i", "inner", true}, {"e", "", true}, {"missing", "", false}} {
		buf := append(make([]byte, 0, 64), "pre"...)
		got, ok, err := bg.GetInto([]byte(tc.key), buf)
		if err != nil || ok != tc.ok || string(got) != "pre"+tc.want {
			t.Fatalf("GetInto(%s) = %q, %v, %v; want %q, %v", tc.key, got, ok, err, "pre"+tc.want, tc.ok)
		}
		if ok && &got[0] != &buf[0] {
			t.Fatalf("GetInto(%s) did not use the buffer's room", tc.key)
		}
	}
	if v, ok, _ := c.Get([]byte("e")); !ok || v == nil {
		t.Fatalf("Get of an empty value = %v, %v; want present and non-nil", v, ok)
	}
}
