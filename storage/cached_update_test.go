package storage

import (
	"errors"
	"testing"
)

// TestUpdateDirty: UpdateDirty folds into a dirty key's value in place,
// does nothing to a key that is not dirty (flushed, deleted or missing),
// keeps the value when f fails, and leaves the store usable when f panics.
func TestUpdateDirty(t *testing.T) {
	c := NewCached(NewMemory("s"), 1<<20, nil)
	appendX := func(old []byte) ([]byte, error) { return append(append([]byte(nil), old...), 'x'), nil }
	if err := c.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.UpdateDirty([]byte("a"), appendX); !ok || err != nil {
		t.Fatalf("UpdateDirty of a dirty key = %v, %v", ok, err)
	}
	if v, _, _ := c.Get([]byte("a")); string(v) != "1x" {
		t.Fatalf("a = %q after the update, want 1x", v)
	}
	if ok, err := c.UpdateDirty([]byte("missing"), appendX); ok || err != nil {
		t.Fatalf("UpdateDirty of a missing key = %v, %v", ok, err)
	}
	if err := c.FlushCache(); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.UpdateDirty([]byte("a"), appendX); ok || err != nil {
		t.Fatalf("UpdateDirty of a flushed key = %v, %v", ok, err)
	}
	if err := c.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if ok, err := c.UpdateDirty([]byte("a"), appendX); ok || err != nil {
		t.Fatalf("UpdateDirty of a deleted key = %v, %v", ok, err)
	}
	if err := c.Put([]byte("b"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if ok, err := c.UpdateDirty([]byte("b"), func([]byte) ([]byte, error) { return nil, boom }); ok || !errors.Is(err, boom) {
		t.Fatalf("UpdateDirty with a failing f = %v, %v", ok, err)
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = c.UpdateDirty([]byte("b"), func([]byte) ([]byte, error) { panic("f panicked") })
	}()
	if v, _, err := c.Get([]byte("b")); string(v) != "2" || err != nil {
		t.Fatalf("b = %q, %v after a failed and a panicking update, want 2", v, err)
	}
	if err := c.Put([]byte("b"), []byte("3")); err != nil { // the lock was released
		t.Fatal(err)
	}
}
