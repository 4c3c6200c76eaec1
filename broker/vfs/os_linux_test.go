package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestOSStartWriteback: the real filesystem's files start writeback of a
// written range without error, leave the data as written, and report a
// closed file.
func TestOSStartWriteback(t *testing.T) {
	name := filepath.Join(t.TempDir(), "seg")
	f, err := OS().Create(name)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	ws, ok := f.(WritebackStarter)
	if !ok {
		t.Fatalf("%T does not implement WritebackStarter", f)
	}
	if err := ws.StartWriteback(1<<20, 2<<20); err != nil {
		t.Fatalf("StartWriteback: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(name)
	if err != nil || string(got) != string(data) {
		t.Fatalf("read back %d bytes, %v; want the %d written", len(got), err, len(data))
	}
	if err := ws.StartWriteback(0, 1); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("StartWriteback on a closed file = %v, want os.ErrClosed", err)
	}
	faulty, err := NewFaultFS(OS(), nil).Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer faulty.Close()
	if _, ok := faulty.(WritebackStarter); ok {
		t.Fatal("a FaultFS file starts writeback behind the injector's back")
	}
}
