package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
)

func writeFile(t *testing.T, fsys FS, name string, data []byte) {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
}

// writeSynced writes name with data, syncs it and syncs its directory, so
// that all of it survives a crash.
func writeSynced(t *testing.T, fsys FS, dir, name string, data []byte) {
	t.Helper()
	f, err := fsys.Create(dir + "/" + name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync %s: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
	mustSyncDir(t, fsys, dir)
}

func readFile(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data
}

func wantContent(t *testing.T, fsys FS, name string, want []byte) {
	t.Helper()
	if got := readFile(t, fsys, name); !bytes.Equal(got, want) {
		t.Fatalf("%s holds %q, want %q", name, got, want)
	}
}

func wantMissing(t *testing.T, fsys FS, name string) {
	t.Helper()
	if _, err := fsys.Stat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat %s: err = %v, want fs.ErrNotExist", name, err)
	}
}

func mustSyncDir(t *testing.T, fsys FS, dir string) {
	t.Helper()
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatalf("sync dir %s: %v", dir, err)
	}
}

func mustMkdirAll(t *testing.T, fsys FS, dir string) {
	t.Helper()
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
}

func mustRename(t *testing.T, fsys FS, oldname, newname string) {
	t.Helper()
	if err := fsys.Rename(oldname, newname); err != nil {
		t.Fatalf("rename %s %s: %v", oldname, newname, err)
	}
}

func mustWrite(t *testing.T, f File, data []byte) {
	t.Helper()
	if n, err := f.Write(data); err != nil || n != len(data) {
		t.Fatalf("write: n=%d err=%v, want %d bytes", n, err, len(data))
	}
}

func mustWriteAt(t *testing.T, f File, data []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(data, off); err != nil || n != len(data) {
		t.Fatalf("write at %d: n=%d err=%v, want %d bytes", off, n, err, len(data))
	}
}
