package log

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// delayedLog opens a SyncOnAck log whose background fsync waits delay for
// a reader, and writes one batch of two records to it without awaiting it.
func delayedLog(t *testing.T, fs vfs.FS, delay time.Duration) *Log {
	t.Helper()
	cfg := smallConfig()
	cfg.Sync, cfg.SyncDelay = SyncOnAck, delay
	return openLog(t, fs, cfg)
}

func writeTwo(t *testing.T, l *Log) {
	t.Helper()
	if _, err := l.Write(encode(t, batch.BuilderOptions{}, rec("k", "a", 1), rec("k", "b", 2))); err != nil {
		t.Fatal(err)
	}
}

// highWatermark is what a reader sees of the log: its durable end.
func highWatermark(t *testing.T, l *Log) int64 {
	t.Helper()
	r, err := l.Read(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r.Release()
	return r.HighWatermark
}

func waitFor(t *testing.T, l *Log, offset int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.WaitFor(ctx, offset); err != nil {
		t.Fatalf("WaitFor(%d): %v (the delay is an hour: the reader must have cut it short)", offset, err)
	}
}

// TestSyncDelayWaitsForAReader: data written without awaiting its fsync is
// not fsynced while nobody waits for it (within SyncDelay), and is fsynced
// at once when a reader starts waiting for it.
func TestSyncDelayWaitsForAReader(t *testing.T) {
	l := delayedLog(t, vfs.NewMem(), time.Hour)
	defer l.Close()
	before := l.Stats().Fsyncs
	writeTwo(t, l)
	time.Sleep(50 * time.Millisecond)
	if n, hw := l.Stats().Fsyncs-before, highWatermark(t, l); n != 0 || hw != 0 {
		t.Fatalf("50 ms after a write nobody waits for: %d fsyncs, high watermark %d; want none and 0", n, hw)
	}
	waitFor(t, l, 1)
	if hw := highWatermark(t, l); hw != 2 {
		t.Fatalf("high watermark %d after WaitFor, want 2", hw)
	}
}

// TestSyncDelayReaderAlreadyWaiting: a write that a reader is already
// waiting for is fsynced at once.
func TestSyncDelayReaderAlreadyWaiting(t *testing.T) {
	l := delayedLog(t, vfs.NewMem(), time.Hour)
	defer l.Close()
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		waitFor(t, l, 0)
	}()
	for l.durableWaiters.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	writeTwo(t, l)
	<-waited
}

// TestSyncDelayEnds: with nobody waiting, written data is fsynced and
// readable once the delay has passed; an append that awaits its fsync and
// Close never wait for the delay.
func TestSyncDelayEnds(t *testing.T) {
	l := delayedLog(t, vfs.NewMem(), 20*time.Millisecond)
	writeTwo(t, l)
	deadline := time.Now().Add(10 * time.Second)
	for highWatermark(t, l) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("written data still not readable 10 s after a write, with a 20 ms sync delay")
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Close()

	fs := vfs.NewMem()
	l = delayedLog(t, fs, time.Hour)
	start := time.Now()
	if _, err := l.Append(encode(t, batch.BuilderOptions{}, rec("k", "c", 3))); err != nil {
		t.Fatal(err)
	}
	writeTwo(t, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("Append and Close took %v with an hour's sync delay", took)
	}
	l = delayedLog(t, fs, time.Hour)
	defer l.Close()
	if hw := highWatermark(t, l); hw != 3 {
		t.Fatalf("after Close and reopen the log ends at %d, want 3", hw)
	}
}
