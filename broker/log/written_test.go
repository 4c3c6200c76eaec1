package log

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// TestReadWrittenBeforeDurable: under SyncOnAck, a written batch is
// readable through ReadWritten (and wakes WaitForWritten) while its fsync
// is held up, and through Read only once that fsync is done.
func TestReadWrittenBeforeDurable(t *testing.T) {
	release := make(chan struct{})
	var holding atomic.Bool
	fs := vfs.NewFaultFS(vfs.NewMem(), func(op vfs.Op, _ string) error {
		if op == vfs.OpSync && holding.Load() {
			<-release
		}
		return nil
	})
	cfg := smallConfig()
	cfg.SegmentBytes = 1 << 20
	l := openLog(t, fs, cfg)
	defer l.Close()

	waited := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		waited <- l.WaitForWritten(ctx, 0)
	}()
	holding.Store(true)
	if _, err := l.Write(encode(t, batch.BuilderOptions{}, rec("k", "a", 1), rec("k", "b", 2))); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("WaitForWritten: %v", err)
	}
	data, res, err := l.ReadWritten(0, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.HighWatermark != 2 {
		t.Fatalf("ReadWritten reports end %d, want 2", res.HighWatermark)
	}
	if h, err := batch.ParseHeader(data); err != nil || h.BaseOffset != 0 || h.LastOffset() != 1 {
		t.Fatalf("ReadWritten returned %d bytes, header %+v, %v; want the batch of offsets 0-1", len(data), h, err)
	}
	if r, err := l.Read(0, 1<<20); err != nil || r.Length != 0 || r.HighWatermark != 0 {
		t.Fatalf("Read before the fsync: %d bytes, high watermark %d, %v; want nothing", r.Length, r.HighWatermark, err)
	}
	holding.Store(false)
	close(release)
	if err := l.AwaitDurable(2); err != nil {
		t.Fatal(err)
	}
	r, err := l.Read(0, 1<<20)
	if err != nil || r.Length != len(data) {
		t.Fatalf("Read after the fsync: %d bytes, %v; want %d", r.Length, err, len(data))
	}
	r.Release()
}

// TestWaitForWrittenWakesOnClose: a reader waiting for data that never
// comes is released when the log closes.
func TestWaitForWrittenWakesOnClose(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallConfig())
	waited := make(chan error, 1)
	go func() { waited <- l.WaitForWritten(context.Background(), 0) }()
	time.Sleep(10 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waited:
		if err != ErrClosed {
			t.Fatalf("WaitForWritten after Close = %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForWritten still waiting 10 s after Close")
	}
}
