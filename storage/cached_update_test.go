package storage

import (
	"errors"
	"testing"
)

// TestCachedUpdate: Update folds into a key's value wherever the key is —
// dirty, in the clean layer after a flush, only in the inner store, deleted
// or missing — keeps the value when f fails, leaves the store usable when f
// panics, and its writes are flushed like Puts, once per key.
func TestCachedUpdate(t *testing.T) {
	inner := NewMemory("s")
	if err := inner.Put([]byte("old"), []byte("0")); err != nil {
		t.Fatal(err)
	}
	var flushed []Mutation
	c := NewCached(inner, 1<<20, func(ms []Mutation) error {
		for _, m := range ms {
			flushed = append(flushed, Mutation{Key: cloneBytes(m.Key), Value: cloneBytes(m.Value), Delete: m.Delete})
		}
		return nil
	})
	appendX := func(old []byte, found bool) ([]byte, error) {
		if !found {
			return []byte("new"), nil
		}
		return append(append([]byte(nil), old...), 'x'), nil
	}
	update := func(key string) {
		t.Helper()
		if err := c.Update([]byte(key), appendX); err != nil {
			t.Fatalf("Update(%s): %v", key, err)
		}
	}
	want := func(key, value string) {
		t.Helper()
		if v, ok, err := c.Get([]byte(key)); !ok || string(v) != value || err != nil {
			t.Fatalf("%s = %q, %v, %v, want %q", key, v, ok, err, value)
		}
	}

	update("old") // only in the inner store
	want("old", "0x")
	if err := c.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	update("a") // dirty
	want("a", "1x")
	update("missing")
	want("missing", "new")
	update("missing") // dirty since the last update
	want("missing", "newx")
	if n := c.DirtyLen(); n != 3 {
		t.Fatalf("%d dirty keys, want 3 (old, a, missing)", n)
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(flushed) != 3 {
		t.Fatalf("the flush emitted %d entries, want 3: %v", len(flushed), flushed)
	}
	update("a") // in the clean layer
	want("a", "1xx")
	if err := c.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	update("a") // deleted while dirty
	want("a", "new")

	boom := errors.New("boom")
	fail := func([]byte, bool) ([]byte, error) { return nil, boom }
	for _, key := range []string{"a", "old", "never"} { // dirty, clean, missing
		if err := c.Update([]byte(key), fail); !errors.Is(err, boom) {
			t.Fatalf("Update(%s) with a failing f = %v, want %v", key, err, boom)
		}
	}
	want("a", "new")
	want("old", "0x")
	if _, ok, _ := c.Get([]byte("never")); ok {
		t.Fatal("a failed Update of a missing key wrote it")
	}
	func() {
		defer func() { _ = recover() }()
		_ = c.Update([]byte("a"), func([]byte, bool) ([]byte, error) { panic("f panicked") })
	}()
	want("a", "new")
	if err := c.Put([]byte("a"), []byte("3")); err != nil { // the lock was released
		t.Fatal(err)
	}
	flushed = nil
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if len(flushed) != 1 || string(flushed[0].Key) != "a" || string(flushed[0].Value) != "3" {
		t.Fatalf("the second flush emitted %v, want a=3 only", flushed)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Update([]byte("a"), appendX); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update after Close = %v, want ErrClosed", err)
	}
}
