package engine

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// deferredClient records appends that do not wait for durability and the
// durability waits that follow.
type deferredClient struct {
	broker.Client // only the methods below are used
	mu            sync.Mutex
	next          map[int32]int64
	awaited       map[int32]int64
	failAwait     error
	failAppend    error
}

func (c *deferredClient) AppendNoWait(_ context.Context, _ string, partition int32, batches []byte) (int64, error) {
	h, err := batch.ParseHeader(batches)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failAppend != nil {
		return 0, c.failAppend
	}
	base := c.next[partition]
	c.next[partition] = base + int64(h.RecordCount)
	return base, nil
}

func (c *deferredClient) AwaitDurable(_ context.Context, _ string, partition int32, end int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.awaited[partition] = end
	return c.failAwait
}

// TestProducerFlushAwaitsDeferredAppends checks that with a client whose
// appends return before their fsync, a flush (what a commit waits for
// before committing offsets) awaits durability of every partition written
// since the last one, up to its last record, and fails when that fails.
func TestProducerFlushAwaitsDeferredAppends(t *testing.T) {
	c := &deferredClient{next: map[int32]int64{}, awaited: map[int32]int64{}}
	p := newProducer(context.Background(), c, func(string) (int32, error) { return 2, nil }, time.Now, nil, -1)
	defer p.close()
	for i := range 5 {
		if err := p.send("out", int32(i%2), nil, []byte("v"), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	if c.awaited[0] != 3 || c.awaited[1] != 2 {
		t.Fatalf("durability awaited up to %v, want partition 0 to 3 and 1 to 2", c.awaited)
	}
	// Nothing appended since: nothing to await.
	c.awaited = map[int32]int64{}
	if err := p.flush(); err != nil || len(c.awaited) != 0 {
		t.Fatalf("second flush awaited %v, err %v", c.awaited, err)
	}
	c.failAwait = errors.New("disk gone")
	if err := p.send("out", 1, nil, []byte("v"), 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.flush(); !errors.Is(err, c.failAwait) {
		t.Fatalf("flush with a failing fsync = %v", err)
	}
	if c.awaited[1] != 3 {
		t.Fatalf("durability awaited up to %v, want partition 1 to 3", c.awaited)
	}
}

// TestRepartitionBatchesAppendAtSeal checks that with a client whose
// appends return before their fsync, a repartition batch is appended by
// the sealing call itself: nothing sealed waits for a writer goroutine
// (which a busy worker may keep from running for milliseconds), so the
// producer never holds other workers' tasks back (floor). A failed append
// fails the send and every flush after it.
func TestRepartitionBatchesAppendAtSeal(t *testing.T) {
	c := &deferredClient{next: map[int32]int64{}, awaited: map[int32]int64{}}
	// A drift of 4 ms: batches span at most 1 ms of event time.
	p := newProducer(context.Background(), c, func(string) (int32, error) { return 1, nil }, time.Now, map[string]bool{"rep": true}, 4*time.Millisecond)
	defer p.close()
	for _, ts := range []int64{10, 11, 20} {
		if err := p.send("rep", 0, []byte("k"), []byte("v"), ts, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The record at 20 sealed the batch of 10 and 11.
	if got := c.next[0]; got != 2 {
		t.Fatalf("%d records appended when the send sealing the batch returned, want 2", got)
	}
	if f := p.floor(); f != noHead {
		t.Fatalf("floor %d with nothing waiting for its append, want none", f)
	}
	if last := p.lastOffset("rep", 0); last != 1 {
		t.Fatalf("last offset %d, want 1", last)
	}
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	if c.next[0] != 3 || c.awaited[0] != 3 {
		t.Fatalf("after the flush %d records appended and durability awaited up to %d, want 3 and 3", c.next[0], c.awaited[0])
	}
	c.failAppend = errors.New("disk full")
	if err := p.send("rep", 0, []byte("k"), []byte("v"), 30, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.send("rep", 0, []byte("k"), []byte("v"), 40, nil); !errors.Is(err, c.failAppend) {
		t.Fatalf("send sealing a batch whose append fails = %v, want %v", err, c.failAppend)
	}
	if err := p.flush(); !errors.Is(err, c.failAppend) {
		t.Fatalf("flush after a failed append = %v, want %v", err, c.failAppend)
	}
}

// blockingClient holds its first append until released and records the
// size and record count of every append.
type blockingClient struct {
	broker.Client
	release chan struct{}
	mu      sync.Mutex
	sizes   []int
	records int
	batches int
}

func (c *blockingClient) Append(_ context.Context, _ string, _ int32, batches []byte) (int64, error) {
	c.mu.Lock()
	first := len(c.sizes) == 0
	c.sizes = append(c.sizes, len(batches))
	base := int64(c.records)
	for rest := batches; len(rest) > 0; {
		one, next, err := batch.Next(rest)
		if err != nil {
			c.mu.Unlock()
			return 0, err
		}
		c.records += countRecords(one)
		c.batches++
		rest = next
	}
	c.mu.Unlock()
	if first {
		<-c.release
	}
	return base, nil
}

// TestProducerCoalescesWithinAppendLimit queues many full batches behind a
// slow append: they must go out in appends of at most maxAppendBytes (a
// Kafka client sends one append as one record batch, which the broker
// caps), together where they fit, none lost.
func TestProducerCoalescesWithinAppendLimit(t *testing.T) {
	c := &blockingClient{release: make(chan struct{})}
	p := newProducer(context.Background(), c, func(string) (int32, error) { return 1, nil }, time.Now, nil, -1)
	defer p.close()
	value := make([]byte, 1000)
	const sent = 3000 // about 12 batches of 256 KiB
	for range sent {
		if err := p.send("out", 0, nil, value, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(c.release)
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	together := false
	const kafkaMessageMax = 1048588 // message.max.bytes, Kafka's default
	for _, n := range c.sizes {
		if n > kafkaMessageMax {
			t.Fatalf("an append of %d bytes, over Kafka's %d", n, kafkaMessageMax)
		}
		together = together || n > maxBatchBytes+batch.HeaderSize+maxBatchBytes/10
	}
	if !together {
		t.Fatalf("appends of %v bytes: queued batches never went together", c.sizes)
	}
	if c.records != sent {
		t.Fatalf("%d records appended, want %d", c.records, sent)
	}
}

// TestProducerKeepsQueuedBuffers: the buffers of batches that queued
// behind a slow append and then went out together are all kept for the
// next batches to be built in, none left to the garbage collector (before,
// a list of four per partition dropped most of them, and q0 allocated a
// fresh buffer for 43% of its batches).
func TestProducerKeepsQueuedBuffers(t *testing.T) {
	c := &blockingClient{release: make(chan struct{})}
	p := newProducer(context.Background(), c, func(string) (int32, error) { return 1, nil }, time.Now, nil, -1)
	defer p.close()
	value := make([]byte, 1000)
	for range 3000 { // about 12 batches of 256 KiB
		if err := p.send("out", 0, nil, value, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(c.release)
	p.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if kept := len(p.free); kept != c.batches || kept < 8 {
		t.Fatalf("%d buffers kept after %d batches went out", kept, c.batches)
	}
}

// TestSealLingering: an open batch is sealed once it has waited the
// linger, not before; linger 0 (an idle worker's) seals at once.
func TestSealLingering(t *testing.T) {
	c := &deferredClient{next: map[int32]int64{}, awaited: map[int32]int64{}}
	now := time.UnixMilli(1_000_000)
	p := newProducer(context.Background(), c, func(string) (int32, error) { return 2, nil }, func() time.Time { return now }, nil, -1)
	defer p.close()
	appended := func(partition int32) int64 {
		p.wg.Wait()
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.next[partition]
	}
	if err := p.send("out", 0, nil, []byte("v"), 1, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(99 * time.Millisecond)
	if err := p.sealLingering(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := appended(0); n != 0 {
		t.Fatalf("%d records appended before the batch lingered 100 ms", n)
	}
	now = now.Add(time.Millisecond)
	if err := p.sealLingering(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n := appended(0); n != 1 {
		t.Fatalf("%d records appended after the linger, want 1", n)
	}
	if err := p.send("out", 1, nil, []byte("v"), 2, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.sealLingering(0); err != nil {
		t.Fatal(err)
	}
	if n := appended(1); n != 1 {
		t.Fatalf("%d records appended with linger 0, want 1", n)
	}
}
