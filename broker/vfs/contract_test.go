package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The contract every FS implementation must meet, run against each of them:
// the real filesystem, MemFS under an absolute root, and a pass-through
// FaultFS over MemFS under a relative root.

type fsEnv struct {
	name  string
	setup func(t *testing.T) (fsys FS, dir string)
}

var fsEnvs = []fsEnv{
	{"os", func(t *testing.T) (FS, string) { return OS(), t.TempDir() }},
	{"mem", func(t *testing.T) (FS, string) {
		m := NewMem()
		mustMkdirAll(t, m, "/data/dir")
		return m, "/data/dir"
	}},
	{"fault-over-mem", func(t *testing.T) (FS, string) {
		f := NewFaultFS(NewMem(), nil)
		mustMkdirAll(t, f, "data")
		return f, "data"
	}},
}

var contractTests = []struct {
	name string
	run  func(t *testing.T, fsys FS, dir string)
}{
	{"CreateWriteRead", testCreateWriteRead},
	{"CreateTruncatesExisting", testCreateTruncatesExisting},
	{"MissingFiles", testMissingFiles},
	{"ReadOnlyRejectsWrites", testReadOnlyRejectsWrites},
	{"OpenReadWriteAppends", testOpenReadWriteAppends},
	{"TruncateExtendsWithZeros", testTruncateExtendsWithZeros},
	{"Rename", testRename},
	{"RemoveKeepsOpenHandles", testRemoveKeepsOpenHandles},
	{"RemoveAll", testRemoveAll},
	{"MkdirAllAndList", testMkdirAllAndList},
	{"Stat", testStat},
	{"Sync", testSync},
	{"Lock", testLock},
	{"ClosedFile", testClosedFile},
	{"ConcurrentReadAtWriteAt", testConcurrentReadAtWriteAt},
}

func TestContract(t *testing.T) {
	for _, env := range fsEnvs {
		for _, tc := range contractTests {
			t.Run(env.name+"/"+tc.name, func(t *testing.T) {
				fsys, dir := env.setup(t)
				tc.run(t, fsys, dir)
			})
		}
	}
}

func testCreateWriteRead(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustWrite(t, f, []byte("hello"))
	mustWrite(t, f, []byte(" world"))
	if fi, err := f.Stat(); err != nil || fi.Size() != 11 {
		t.Fatalf("stat: %v, %v; want size 11", fi, err)
	}

	buf := make([]byte, 5)
	if n, err := f.ReadAt(buf, 6); err != nil || string(buf[:n]) != "world" {
		t.Fatalf("ReadAt(6) = %q, %v", buf[:n], err)
	}
	buf = make([]byte, 8)
	if n, err := f.ReadAt(buf, 6); err != io.EOF || string(buf[:n]) != "world" {
		t.Fatalf("ReadAt past the end = %q, %v; want \"world\", io.EOF", buf[:n], err)
	}
	// Read has its own position, untouched by Write.
	if got, err := io.ReadAll(f); err != nil || string(got) != "hello world" {
		t.Fatalf("Read on the writing handle = %q, %v", got, err)
	}
	if n, err := f.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v; want 0, io.EOF", n, err)
	}
	wantContent(t, fsys, name, []byte("hello world"))
}

func testCreateTruncatesExisting(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	writeFile(t, fsys, name, []byte("old content"))
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("new"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, name, []byte("new"))
}

func testMissingFiles(t *testing.T, fsys FS, dir string) {
	name := dir + "/missing"
	checks := map[string]error{}
	_, checks["Open"] = fsys.Open(name)
	_, checks["OpenReadWrite"] = fsys.OpenReadWrite(name)
	_, checks["Stat"] = fsys.Stat(name)
	_, checks["List"] = fsys.List(name)
	_, checks["Create in missing dir"] = fsys.Create(name + "/f")
	checks["Remove"] = fsys.Remove(name)
	checks["Rename"] = fsys.Rename(name, dir+"/other")
	checks["SyncDir"] = fsys.SyncDir(name)
	for op, err := range checks {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a missing name: err = %v, want fs.ErrNotExist", op, err)
		}
		if err != nil && !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: error %q does not name the file", op, err)
		}
	}
	if err := fsys.RemoveAll(name); err != nil {
		t.Errorf("RemoveAll of a missing name: %v, want nil", err)
	}
}

func testReadOnlyRejectsWrites(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	writeFile(t, fsys, name, []byte("data"))
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("Write on a read-only handle succeeded")
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on a read-only handle succeeded")
	}
	if err := f.Truncate(0); err == nil {
		t.Error("Truncate on a read-only handle succeeded")
	}
	if _, err := f.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt at a negative offset succeeded")
	}
	wantContent(t, fsys, name, []byte("data"))
}

func testOpenReadWriteAppends(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	writeFile(t, fsys, name, []byte("abc"))
	f, err := fsys.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustWrite(t, f, []byte("def"))
	mustWriteAt(t, f, []byte("X"), 1)
	mustWrite(t, f, []byte("g"))
	wantContent(t, fsys, name, []byte("aXcdefg"))

	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("Z"))
	mustWriteAt(t, f, []byte("Q"), 5) // leaves a hole that reads as zeros
	mustWrite(t, f, []byte("!"))
	wantContent(t, fsys, name, []byte("aXZ\x00\x00Q!"))

	if _, err := f.WriteAt([]byte("x"), -1); err == nil {
		t.Error("WriteAt at a negative offset succeeded")
	}
	if err := f.Truncate(-1); err == nil {
		t.Error("Truncate to a negative size succeeded")
	}
}

func testTruncateExtendsWithZeros(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustWrite(t, f, []byte("abcdef"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{2, 5} {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
	}
	wantContent(t, fsys, name, []byte("ab\x00\x00\x00"))
	if fi, err := fsys.Stat(name); err != nil || fi.Size() != 5 {
		t.Fatalf("stat after truncate: %v, %v", fi, err)
	}
}

func testRename(t *testing.T, fsys FS, dir string) {
	writeFile(t, fsys, dir+"/a", []byte("A"))
	mustRename(t, fsys, dir+"/a", dir+"/b")
	wantMissing(t, fsys, dir+"/a")
	wantContent(t, fsys, dir+"/b", []byte("A"))

	// Replacing: a handle open on the replaced file keeps its inode.
	writeFile(t, fsys, dir+"/c", []byte("C"))
	old, err := fsys.Open(dir + "/c")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	mustRename(t, fsys, dir+"/b", dir+"/c")
	wantContent(t, fsys, dir+"/c", []byte("A"))
	if got, err := io.ReadAll(old); err != nil || string(got) != "C" {
		t.Fatalf("handle on the replaced file reads %q, %v; want \"C\"", got, err)
	}

	mustMkdirAll(t, fsys, dir+"/d1/sub")
	writeFile(t, fsys, dir+"/d1/sub/f", []byte("F"))
	mustMkdirAll(t, fsys, dir+"/full/x")
	if err := fsys.Rename(dir+"/d1", dir+"/full"); err == nil {
		t.Fatal("Rename over a non-empty directory succeeded")
	}
	mustRename(t, fsys, dir+"/d1", dir+"/d2")
	wantContent(t, fsys, dir+"/d2/sub/f", []byte("F"))
	wantMissing(t, fsys, dir+"/d1")
}

func testRemoveKeepsOpenHandles(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	writeFile(t, fsys, name, []byte("abc"))
	f, err := fsys.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fsys.Remove(name); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, fsys, name)
	mustWrite(t, f, []byte("def"))
	buf := make([]byte, 6)
	if _, err := f.ReadAt(buf, 0); err != nil || string(buf) != "abcdef" {
		t.Fatalf("removed file reads %q, %v", buf, err)
	}

	mustMkdirAll(t, fsys, dir+"/full")
	writeFile(t, fsys, dir+"/full/x", nil)
	if err := fsys.Remove(dir + "/full"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("Remove of a non-empty directory: %v, want ENOTEMPTY", err)
	}
	if err := fsys.Remove(dir + "/full/x"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove(dir + "/full"); err != nil {
		t.Fatalf("Remove of an empty directory: %v", err)
	}
	wantMissing(t, fsys, dir+"/full")
}

func testRemoveAll(t *testing.T, fsys FS, dir string) {
	mustMkdirAll(t, fsys, dir+"/tree/a/b")
	writeFile(t, fsys, dir+"/tree/a/b/f", []byte("x"))
	writeFile(t, fsys, dir+"/tree/g", []byte("y"))
	writeFile(t, fsys, dir+"/keep", []byte("z"))
	if err := fsys.RemoveAll(dir + "/tree"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, fsys, dir+"/tree")
	if names, err := fsys.List(dir); err != nil || !slices.Equal(names, []string{"keep"}) {
		t.Fatalf("List after RemoveAll = %v, %v", names, err)
	}
}

func testMkdirAllAndList(t *testing.T, fsys FS, dir string) {
	mustMkdirAll(t, fsys, dir+"/p/q/r")
	mustMkdirAll(t, fsys, dir+"/p/q/r") // idempotent
	for _, n := range []string{"c", "a", "b"} {
		writeFile(t, fsys, dir+"/p/"+n, nil)
	}
	names, err := fsys.List(dir + "/p")
	if err != nil || !slices.Equal(names, []string{"a", "b", "c", "q"}) {
		t.Fatalf("List = %v, %v; want [a b c q]", names, err)
	}
	if names, err := fsys.List(dir + "/p/q/r"); err != nil || len(names) != 0 {
		t.Fatalf("List of an empty directory = %v, %v", names, err)
	}
	if _, err := fsys.List(dir + "/p/a"); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("List of a file: %v, want ENOTDIR", err)
	}
	if err := fsys.MkdirAll(dir+"/p/a/sub", 0o755); !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("MkdirAll through a file: %v, want ENOTDIR", err)
	}
}

func testStat(t *testing.T, fsys FS, dir string) {
	writeFile(t, fsys, dir+"/f", []byte("12345"))
	mustMkdirAll(t, fsys, dir+"/d")
	fi, err := fsys.Stat(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name() != "f" || fi.Size() != 5 || fi.IsDir() || !fi.Mode().IsRegular() {
		t.Fatalf("stat of a file: name %q size %d mode %v", fi.Name(), fi.Size(), fi.Mode())
	}
	fi, err = fsys.Stat(dir + "/d")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name() != "d" || !fi.IsDir() {
		t.Fatalf("stat of a directory: name %q mode %v", fi.Name(), fi.Mode())
	}
}

func testSync(t *testing.T, fsys FS, dir string) {
	name := dir + "/f"
	writeSynced(t, fsys, dir, "f", []byte("data"))
	// fsync works on read-only descriptors too; recovery code relies on it
	// after truncating a torn tail through another handle.
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync of a read-only handle: %v", err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
}

func testLock(t *testing.T, fsys FS, dir string) {
	name := dir + "/LOCK"
	l1, err := fsys.Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fsys.Lock(name)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Fatalf("error %q does not name the file", err)
	}
	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := fsys.Lock(name)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(name); err != nil {
		t.Fatalf("Lock did not create its file: %v", err)
	}
}

func testClosedFile(t *testing.T, fsys FS, dir string) {
	f, err := fsys.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{"Close": f.Close(), "Sync": f.Sync()}
	_, errs["Write"] = f.Write([]byte("x"))
	_, errs["ReadAt"] = f.ReadAt(make([]byte, 1), 0)
	for op, err := range errs {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s after Close: %v, want fs.ErrClosed", op, err)
		}
	}
}

func testConcurrentReadAtWriteAt(t *testing.T, fsys FS, dir string) {
	const writers, chunk, rounds = 4, 64, 20
	f, err := fsys.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(writers * chunk); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 2*writers)
	for w := range writers {
		wg.Add(2)
		go func() { // each writer owns one region
			defer wg.Done()
			for r := range rounds {
				data := bytes.Repeat([]byte{byte('a' + w)}, chunk)
				data[0] = byte(r)
				if _, err := f.WriteAt(data, int64(w*chunk)); err != nil {
					errc <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			buf := make([]byte, chunk)
			for range rounds {
				if _, err := f.ReadAt(buf, int64(w*chunk)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	got := readFile(t, fsys, dir+"/f")
	for w := range writers {
		region := got[w*chunk : (w+1)*chunk]
		want := bytes.Repeat([]byte{byte('a' + w)}, chunk)
		want[0] = rounds - 1
		if !bytes.Equal(region, want) {
			t.Fatalf("region %d = %s", w, fmt.Sprintf("%q", region))
		}
	}
}
