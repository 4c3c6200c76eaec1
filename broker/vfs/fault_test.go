package vfs

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func newFaulty(t *testing.T, inject Injector) (*FaultFS, *MemFS) {
	t.Helper()
	m := NewMem()
	mustMkdirAll(t, m, "d")
	return NewFaultFS(m, inject), m
}

func TestFailAfter(t *testing.T) {
	fsys, mem := newFaulty(t, FailAfter(3, OpWrite))
	f, err := fsys.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("1"))
	mustWriteAt(t, f, []byte("x"), 5) // another Op: not counted
	mustWrite(t, f, []byte("2"))
	for range 2 {
		n, err := f.Write([]byte("3"))
		if n != 0 || !errors.Is(err, ErrInjected) {
			t.Fatalf("write after the limit: %d, %v; want 0, ErrInjected", n, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != "write" || pe.Path != "d/f" {
			t.Fatalf("injected error %v does not name the operation and file", err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync is not among the failing ops: %v", err)
	}
	wantContent(t, mem, "d/f", []byte("1\x00\x00\x00\x00x2"))
}

func TestFailAfterWithoutOpsCountsEverything(t *testing.T) {
	fsys, _ := newFaulty(t, FailAfter(2))
	if err := fsys.MkdirAll("d/e", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.List("d"); !errors.Is(err, ErrInjected) {
		t.Fatalf("second op: %v, want ErrInjected", err)
	}
	if err := fsys.SyncDir("d"); !errors.Is(err, ErrInjected) {
		t.Fatalf("third op: %v, want ErrInjected", err)
	}
}

func TestFailOnce(t *testing.T) {
	fsys, _ := newFaulty(t, FailOnce(2, OpSync, OpSyncDir))
	f, err := fsys.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("d"); !errors.Is(err, ErrInjected) {
		t.Fatalf("second sync: %v, want ErrInjected", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("third sync: %v, want success", err)
	}
}

func TestDiskFull(t *testing.T) {
	fsys, mem := newFaulty(t, DiskFull(2, 3))
	f, err := fsys.Create("d/seg")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("first"))
	n, err := f.Write([]byte("second"))
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling write: %d, %v; want a short write of 3 and ENOSPC", n, err)
	}
	var short *ShortWriteError
	if !errors.As(err, &short) || short.Keep != 3 {
		t.Fatalf("filling write's error %v carries no ShortWriteError", err)
	}
	n, err = f.WriteAt([]byte("again"), 0)
	if n != 0 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %d, %v; want 0, ENOSPC", n, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync on a full disk: %v", err)
	}
	wantContent(t, mem, "d/seg", []byte("firstsec"))
	if !strings.Contains(err.Error(), "d/seg") {
		t.Fatalf("error %q does not name the file", err)
	}
}

func TestShortWriteLongerThanTheWrite(t *testing.T) {
	tooMuch := func(op Op, _ string) error {
		if op == OpWriteAt {
			return &ShortWriteError{Keep: 100, Err: ErrInjected}
		}
		return nil
	}
	fsys, mem := newFaulty(t, tooMuch)
	f, err := fsys.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.WriteAt([]byte("abc"), 0); n != 3 || !errors.Is(err, ErrInjected) {
		t.Fatalf("WriteAt = %d, %v; want 3, ErrInjected", n, err)
	}
	wantContent(t, mem, "d/f", []byte("abc"))
}

func TestInjectorSeesNamesAndCanBeArmedLater(t *testing.T) {
	fsys, mem := newFaulty(t, nil)
	writeFile(t, fsys, "d/ckpt.tmp", []byte("c"))
	var seen []string
	fsys.SetInjector(func(op Op, name string) error {
		seen = append(seen, op.String()+" "+name)
		if op == OpRename && strings.HasSuffix(name, ".tmp") {
			return ErrInjected
		}
		return nil
	})
	if err := fsys.Rename("d/ckpt.tmp", "d/ckpt"); !errors.Is(err, ErrInjected) {
		t.Fatalf("rename: %v, want ErrInjected", err)
	}
	wantMissing(t, mem, "d/ckpt")
	if err := fsys.Remove("d/ckpt.tmp"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"rename d/ckpt.tmp", "remove d/ckpt.tmp"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Fatalf("injector saw %q, want %q", seen, want)
	}
}

func TestFaultyCloseStillClosesTheFile(t *testing.T) {
	fsys, _ := newFaulty(t, FailOnce(1, OpClose))
	f, err := fsys.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); !errors.Is(err, ErrInjected) {
		t.Fatalf("close: %v, want ErrInjected", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("second close: %v, want fs.ErrClosed from the closed inner file", err)
	}
}

func TestFaultOpsCoverTheInterface(t *testing.T) {
	// Every operation is reported with its own Op before reaching the
	// wrapped FS.
	var ops []Op
	fsys, _ := newFaulty(t, func(op Op, _ string) error {
		ops = append(ops, op)
		return ErrInjected
	})
	_, _ = fsys.Create("d/f")
	_, _ = fsys.Open("d/f")
	_, _ = fsys.OpenReadWrite("d/f")
	_ = fsys.Remove("d/f")
	_ = fsys.RemoveAll("d/f")
	_ = fsys.Rename("d/f", "d/g")
	_ = fsys.MkdirAll("d/e", 0o755)
	_, _ = fsys.List("d")
	_, _ = fsys.Stat("d")
	_ = fsys.SyncDir("d")
	_, _ = fsys.Lock("d/LOCK")
	fsys.SetInjector(nil)
	f, err := fsys.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	fsys.SetInjector(func(op Op, _ string) error {
		ops = append(ops, op)
		return ErrInjected
	})
	_, _ = f.Read(nil)
	_, _ = f.Write(nil)
	_, _ = f.WriteAt(nil, 0)
	_ = f.Sync()
	_ = f.Truncate(0)
	_ = f.Close()
	for op := OpCreate; op <= OpClose; op++ {
		if !slices.Contains(ops, op) {
			t.Errorf("%v never reached the injector", op)
		}
		if strings.HasPrefix(op.String(), "Op(") {
			t.Errorf("%d has no name", int(op))
		}
	}
	if s := Op(99).String(); s != "Op(99)" {
		t.Errorf("unknown op prints %q", s)
	}
}
