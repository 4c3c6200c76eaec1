package log

import (
	"strings"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// writebackFS records the writeback ranges started on its segment files.
type writebackFS struct {
	vfs.FS
	mu     sync.Mutex
	ranges map[string][][2]int64 // file name → [off, n] in call order
}

type writebackFile struct {
	vfs.File
	fs   *writebackFS
	name string
}

func (f writebackFile) StartWriteback(off, n int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.fs.ranges[f.name] = append(f.fs.ranges[f.name], [2]int64{off, n})
	return nil
}

func (w *writebackFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, logSuffix) {
		return f, err
	}
	return writebackFile{File: f, fs: w, name: name}, nil
}

func (w *writebackFS) Create(name string) (vfs.File, error) {
	f, err := w.FS.Create(name)
	return w.wrap(name, f, err)
}

func (w *writebackFS) OpenReadWrite(name string) (vfs.File, error) {
	f, err := w.FS.OpenReadWrite(name)
	return w.wrap(name, f, err)
}

// TestSegmentsStartWriteback: a segment starts the writeback of its
// appended data in contiguous ranges of at least writebackBytes, from the
// start of the file, without waiting for a Sync.
func TestSegmentsStartWriteback(t *testing.T) {
	fs := &writebackFS{FS: vfs.NewMem(), ranges: map[string][][2]int64{}}
	cfg := DefaultConfig()
	cfg.SegmentBytes = 8 << 20
	cfg.SyncDelay = -1
	l := openLog(t, fs, cfg)
	defer l.Close()
	value := strings.Repeat("v", 100<<10)
	for i := range 40 { // about 4 MiB
		if _, err := l.Write(encode(t, batch.BuilderOptions{}, rec("k", value, int64(i)))); err != nil {
			t.Fatal(err)
		}
	}
	written := l.Size()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.ranges) != 1 {
		t.Fatalf("writeback started on %d files, want the one segment: %v", len(fs.ranges), fs.ranges)
	}
	for name, rs := range fs.ranges {
		var next int64
		for _, r := range rs {
			if r[0] != next || r[1] < writebackBytes {
				t.Fatalf("%s: writeback ranges %v: want contiguous ranges from 0 of at least %d bytes", name, rs, writebackBytes)
			}
			next = r[0] + r[1]
		}
		if next > written || written-next >= writebackBytes+100<<10 {
			t.Fatalf("%s: writeback started up to %d of %d bytes written", name, next, written)
		}
	}
}
