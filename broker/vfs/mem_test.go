package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// TestMemContentMatchesModel drives one file through random writes,
// truncations and syncs and checks, after each step, the current content and
// the content a crash would keep against a plain model. It guards the
// aliasing between a file's bytes and its synced snapshot.
func TestMemContentMatchesModel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	m, dir := newMemWithDir(t)
	name := dir + "/f"
	f, err := m.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	mustSyncDir(t, m, dir)
	var cur, synced []byte
	for step := range 400 {
		var what string
		switch rnd.IntN(5) {
		case 0, 1:
			p := randomBytes(rnd, rnd.IntN(40))
			mustWrite(t, f, p)
			cur = append(cur, p...)
			what = fmt.Sprintf("Write(%d)", len(p))
		case 2:
			p := randomBytes(rnd, 1+rnd.IntN(20))
			off := rnd.IntN(len(cur) + 10)
			mustWriteAt(t, f, p, int64(off))
			if end := off + len(p); end > len(cur) {
				cur = append(cur, make([]byte, end-len(cur))...)
			}
			copy(cur[off:], p)
			what = fmt.Sprintf("WriteAt(%d, %d)", len(p), off)
		case 3:
			size := rnd.IntN(len(cur) + 20)
			if err := f.Truncate(int64(size)); err != nil {
				t.Fatal(err)
			}
			if size <= len(cur) {
				cur = cur[:size]
			} else {
				cur = append(cur, make([]byte, size-len(cur))...)
			}
			what = fmt.Sprintf("Truncate(%d)", size)
		case 4:
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			synced = slices.Clone(cur)
			what = "Sync"
		}
		if got := readFile(t, m, name); !bytes.Equal(got, cur) {
			t.Fatalf("step %d %s: content %v, want %v", step, what, got, cur)
		}
		if got := readFile(t, m.CrashClone(strict), name); !bytes.Equal(got, synced) {
			t.Fatalf("step %d %s: after a crash %v, want %v", step, what, got, synced)
		}
	}
}

func randomBytes(rnd *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rnd.Uint32())
	}
	return p
}

func TestMemPaths(t *testing.T) {
	m := NewMem()
	mustMkdirAll(t, m, "/a/b")
	writeFile(t, m, "a/b/f", []byte("x"))
	for _, name := range []string{"/a/b/f", "a/b/f", "a//b/./f", "/a/c/../b/f"} {
		wantContent(t, m, name, []byte("x"))
	}
	for _, root := range []string{"/", ".", ""} {
		if names, err := m.List(root); err != nil || !slices.Equal(names, []string{"a"}) {
			t.Fatalf("List(%q) = %v, %v", root, names, err)
		}
	}
	if _, err := m.Open("/a"); !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("Open of a directory: %v, want EISDIR", err)
	}
	if _, err := m.Create("/a"); !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("Create over a directory: %v, want EISDIR", err)
	}
	if err := m.Rename("/a", "/a/b/inside"); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Rename of a directory into itself: %v, want EINVAL", err)
	}
	if err := m.Rename("/a/b/f", "/a"); !errors.Is(err, syscall.EISDIR) {
		t.Fatalf("Rename of a file over a directory: %v, want EISDIR", err)
	}
	if err := m.Remove("/"); err == nil {
		t.Fatal("Remove of the root succeeded")
	}
}

// TestMemConcurrentUse runs writers, readers, directory operations and
// crash clones at once; run with -race.
func TestMemConcurrentUse(t *testing.T) {
	m, dir := newMemWithDir(t)
	const workers, rounds = 4, 50
	var wg sync.WaitGroup
	errc := make(chan error, workers+2)
	for w := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("%s/w%d", dir, w)
			f, err := m.Create(name)
			if err != nil {
				errc <- err
				return
			}
			defer f.Close()
			for r := range rounds {
				if _, err := f.Write([]byte{byte(r)}); err != nil {
					errc <- err
					return
				}
				if r%10 == 0 {
					if err := f.Sync(); err != nil {
						errc <- err
						return
					}
					if err := m.SyncDir(dir); err != nil {
						errc <- err
						return
					}
				}
				if err := m.Rename(name, name+".tmp"); err != nil {
					errc <- err
					return
				}
				if err := m.Rename(name+".tmp", name); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range rounds {
			c := m.CrashClone(CrashOptions{Rand: rand.New(rand.NewPCG(1, 2)), KeepUnsyncedProb: 0.5})
			if _, err := c.List(dir); err != nil {
				errc <- err
				return
			}
			_ = m.String()
		}
	})
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for w := range workers {
		got := readFile(t, m, fmt.Sprintf("%s/w%d", dir, w))
		if len(got) != rounds || got[rounds-1] != rounds-1 {
			t.Fatalf("worker %d's file holds %v", w, got)
		}
	}
}
