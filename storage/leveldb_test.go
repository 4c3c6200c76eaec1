package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb/opt"
)

func TestLevelDBReopenKeepsFlushedData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "counts")
	l, err := OpenLevelDB(dir, LevelDBOptions{Name: "counts"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != "counts" || l.Dir() != dir {
		t.Fatalf("Name/Dir = %q/%q", l.Name(), l.Dir())
	}
	for i := range 1000 {
		mustPut(t, l, fmt.Sprintf("k%04d", i), fmt.Sprint(i))
	}
	if err := l.Delete([]byte("k0500")); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = OpenLevelDB(dir, LevelDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Name() != "counts" {
		t.Fatalf("default name = %q, want the directory's base name", l.Name())
	}
	got := scan(t, l, nil, nil)
	if len(got) != 999 {
		t.Fatalf("reopened store has %d keys, want 999", len(got))
	}
	if v, _ := mustGet(t, l, "k0999"); v != "999" {
		t.Fatalf("k0999 = %q", v)
	}
	if _, ok := mustGet(t, l, "k0500"); ok {
		t.Fatal("deleted key came back after reopen")
	}
}

// TestLevelDBFlushSurvivesPowerLoss runs LevelDB over a storage that can
// drop everything not fsynced, with a tiny write buffer so that journals
// rotate and memtables compact while the test writes: everything written
// before Flush must survive the crash.
func TestLevelDBFlushSurvivesPowerLoss(t *testing.T) {
	open := func(stor *crashStorage) *LevelDB {
		t.Helper()
		lo, err := LevelDBOptions{WriteBufferBytes: 16 << 10}.goleveldb()
		if err != nil {
			t.Fatal(err)
		}
		l, err := openOn("crash", "crash", lo, stor, func() error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	stor := newCrashStorage()
	l := open(stor)
	val := strings.Repeat("v", 100)
	for round := range 5 {
		batch := make([]Mutation, 0, 100)
		for i := range 100 {
			batch = append(batch, Mutation{Key: fmt.Appendf(nil, "r%d-%03d", round, i), Value: []byte(val)})
		}
		if err := l.Apply(batch); err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			mustPut(t, l, fmt.Sprintf("p%d-%03d", round, i), val)
		}
		if err := l.Delete(fmt.Appendf(nil, "r%d-000", round)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		mustPut(t, l, fmt.Sprintf("unflushed-%02d", i), val)
	}
	if stor.unsynced() == 0 {
		t.Fatal("writes after Flush were synced: the crash below would test nothing")
	}
	after := open(stor.crash())
	defer after.Close()
	defer l.Close()
	for round := range 5 {
		for i := range 100 {
			for _, prefix := range []string{"r", "p"} {
				k := fmt.Sprintf("%s%d-%03d", prefix, round, i)
				v, ok := mustGet(t, after, k)
				if deleted := prefix == "r" && i == 0; deleted == ok || (ok && v != val) {
					t.Fatalf("after crash %s = %q, %v", k, v, ok)
				}
			}
		}
	}
}

// TestLevelDBUnflushedWritesMayBeLost is the control for the test above:
// the crash model does drop what was not fsynced.
func TestLevelDBUnflushedWritesMayBeLost(t *testing.T) {
	stor := newCrashStorage()
	lo, _ := LevelDBOptions{}.goleveldb()
	l, err := openOn("crash", "crash", lo, stor, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 100 {
		mustPut(t, l, fmt.Sprintf("k%03d", i), "v")
	}
	after, err := openOn("crash", "crash", lo, stor.crash(), func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	if got := scan(t, after, nil, nil); len(got) != 0 {
		t.Fatalf("%d unflushed keys survived a crash; the crash model keeps unsynced data", len(got))
	}
}

func TestLevelDBOpenCorrupt(t *testing.T) {
	prepare := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "store")
		// A small write buffer gives table files to damage.
		l, err := OpenLevelDB(dir, LevelDBOptions{WriteBufferBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5000 {
			mustPut(t, l, fmt.Sprintf("key-%05d", i), strings.Repeat("x", 50))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	find := func(t *testing.T, dir, pattern string) string {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) == 0 {
			t.Fatalf("no %s in %s", pattern, dir)
		}
		return m[0]
	}
	damage := map[string]func(t *testing.T, dir string){
		"garbage CURRENT": func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "CURRENT"), []byte("not a manifest name\n"), 0o644)
			os.Remove(filepath.Join(dir, "CURRENT.bak"))
		},
		"garbled manifest": func(t *testing.T, dir string) {
			p := find(t, dir, "MANIFEST-*")
			b, _ := os.ReadFile(p)
			for i := 10; i < len(b); i += 7 {
				b[i] ^= 0x5A
			}
			os.WriteFile(p, b, 0o644)
		},
		"missing table": func(t *testing.T, dir string) {
			os.Remove(find(t, dir, "*.ldb"))
		},
		"garbled table": func(t *testing.T, dir string) {
			p := find(t, dir, "*.ldb")
			b, _ := os.ReadFile(p)
			for i := 0; i < len(b); i += 3 {
				b[i] ^= 0xFF
			}
			os.WriteFile(p, b, 0o644)
		},
	}
	for name, hurt := range damage {
		t.Run(name, func(t *testing.T) {
			dir := prepare(t)
			hurt(t, dir)
			err := openAndReadAll(dir)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error %q does not name the directory", err)
			}
			// The engine's answer: wipe and start over.
			if err := Destroy(dir); err != nil {
				t.Fatal(err)
			}
			l, err := OpenLevelDB(dir, LevelDBOptions{})
			if err != nil {
				t.Fatalf("open after Destroy: %v", err)
			}
			defer l.Close()
			if got := scan(t, l, nil, nil); len(got) != 0 {
				t.Fatalf("store not empty after Destroy: %d keys", len(got))
			}
		})
	}
}

// openAndReadAll opens the store and reads every entry, returning the
// first error: damage to a table shows when the table is read.
func openAndReadAll(dir string) error {
	l, err := OpenLevelDB(dir, LevelDBOptions{})
	if err != nil {
		return err
	}
	defer l.Close()
	it, err := l.Range(nil, nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
	}
	return it.Err()
}

func TestLevelDBLockedAndDestroy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	l, err := OpenLevelDB(dir, LevelDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLevelDB(dir, LevelDBOptions{}); !errors.Is(err, ErrLocked) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("second open = %v, want ErrLocked (and not ErrCorrupt)", err)
	}
	if err := Destroy(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Destroy of an open store = %v, want ErrLocked", err)
	}
	mustPut(t, l, "a", "1")
	l.Close()
	if err := Destroy(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("directory still there after Destroy: %v", err)
	}
	if err := Destroy(dir); err != nil {
		t.Fatalf("Destroy of a missing directory: %v", err)
	}

	// A directory with anything else in it is not wiped.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "CURRENT"), nil, 0o644)
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("keep me"), 0o644)
	if err := Destroy(other); !errors.Is(err, ErrNotStore) {
		t.Fatalf("Destroy of a foreign directory = %v, want ErrNotStore", err)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Fatalf("foreign file removed: %v", err)
	}
}

func TestLevelDBCloseReleasesIterators(t *testing.T) {
	l, err := OpenLevelDB(t.TempDir(), LevelDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "a", "1")
	mustPut(t, l, "b", "2")
	it, err := l.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.Next() {
		t.Fatal("no entry")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if it.Next() {
		t.Fatal("iterator continued after the store closed")
	}
	if !errors.Is(it.Err(), ErrClosed) {
		t.Fatalf("iterator Err = %v, want ErrClosed", it.Err())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLevelDBOptions(t *testing.T) {
	if _, err := OpenLevelDB(t.TempDir(), LevelDBOptions{WriteBufferBytes: -1}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("negative write buffer: %v", err)
	}
	lo, err := LevelDBOptions{}.goleveldb()
	if err != nil {
		t.Fatal(err)
	}
	if lo.WriteBuffer != DefaultWriteBufferBytes || lo.BlockCacheCapacity != DefaultBlockCacheBytes ||
		lo.Filter == nil || lo.Compression != opt.SnappyCompression {
		t.Fatalf("defaults not applied: %+v", lo)
	}
	if lo.GetStrict(opt.StrictJournal) || !lo.GetStrict(opt.StrictManifest) || !lo.GetStrict(opt.StrictBlockChecksum) {
		t.Fatal("strictness: want torn journals tolerated, damaged manifests and tables refused")
	}
	lo, _ = LevelDBOptions{BlockCacheBytes: -1, BloomBitsPerKey: -1, NoCompression: true}.goleveldb()
	if lo.BlockCacheCapacity != -1 || lo.Filter != nil || lo.Compression != opt.NoCompression {
		t.Fatalf("disabling options not applied: %+v", lo)
	}
	// Every option combination still makes a working store.
	l, err := OpenLevelDB(t.TempDir(), LevelDBOptions{BlockCacheBytes: -1, BloomBitsPerKey: -1, NoCompression: true, WriteBufferBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 3000 {
		mustPut(t, l, fmt.Sprintf("k%05d", i), strings.Repeat("v", 40))
	}
	if v, ok := mustGet(t, l, "k02999"); !ok || len(v) != 40 {
		t.Fatal("read back failed")
	}
	size, err := l.ApproximateBytes()
	if err != nil || size < 3000*40/2 {
		t.Fatalf("ApproximateBytes = %d, %v; want at least the tables' data", size, err)
	}
}

func TestIsLevelDBFile(t *testing.T) {
	for _, name := range []string{"LOCK", "LOG", "LOG.old", "CURRENT", "CURRENT.bak", "CURRENT.12", "MANIFEST-000002", "000005.ldb", "000003.log", "000007.sst", "000009.tmp"} {
		if !isLevelDBFile(name) {
			t.Errorf("%q not recognised as a LevelDB file", name)
		}
	}
	for _, name := range []string{"notes.txt", ".ldb", "x.log", "MANIFEST-", "MANIFEST-abc", "CURRENT.x", ".checkpoint"} {
		if isLevelDBFile(name) {
			t.Errorf("%q taken for a LevelDB file", name)
		}
	}
}
