package engine

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// fetchRecorder passes fetches to the embedded client and notes, for each,
// whether the fetcher handed it a buffer to reuse.
type fetchRecorder struct {
	broker.Client
	// gate holds fetches back while it is locked, as the scheduler
	// does a fetcher that gets no processor.
	gate    sync.Mutex
	mu      sync.Mutex
	reused  []bool
	fetched int // batches
}

func (r *fetchRecorder) FetchInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (broker.FetchResult, error) {
	r.gate.Lock()
	r.gate.Unlock() //lint:ignore SA2001 waits for the gate to open
	reused := cap(dst) > 0
	res, err := r.Client.(broker.BufferedFetcher).FetchInto(ctx, dst, topic, partition, offset, maxBytes, maxWait)
	if len(res.Batches) > 0 {
		r.mu.Lock()
		r.reused = append(r.reused, reused)
		r.fetched++
		r.mu.Unlock()
	}
	return res, err
}

func (r *fetchRecorder) batches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetched
}

// TestInputRecyclesChunks: every fetch after the first few goes into a
// chunk the worker has finished, so reading a partition allocates a
// handful of buffers, not one per fetch, even when the worker empties the
// queue while the fetcher is held back.
func TestInputRecyclesChunks(t *testing.T) {
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := b.Embedded()
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: "in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	const batches, perBatch = 40, 50
	for i := range batches {
		bl := batch.NewBuilder(batch.BuilderOptions{})
		for j := range perBatch {
			bl.Add(batch.Record{Key: []byte{byte(i), byte(j)}, Value: make([]byte, 100)})
		}
		data, err := bl.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Append(ctx, "in", 0, data); err != nil {
			t.Fatal(err)
		}
	}
	rec := &fetchRecorder{Client: c}
	in := newInput("in", 0, 0, false, new(atomic.Int64))
	// maxBytes 1: a batch per fetch.
	go fetch(ctx, rec, in, 0, 1, 10*time.Millisecond, make(chan struct{}, 1), func(string, ...any) {})

	read := 0
	for read < batches*perBatch {
		// The fetcher gets ahead until its queue is full (or everything
		// is fetched), as it does when records are stored before the app
		// runs; then it is held back while the worker reads all it has.
		for len(in.chunks) < cap(in.chunks) && rec.batches() < batches {
			time.Sleep(time.Millisecond)
		}
		rec.gate.Lock()
		for {
			ok, err := in.peek()
			if err != nil {
				t.Fatalf("after %d records: %v", read, err)
			}
			if !ok {
				break
			}
			if want := int64(read); in.cur.Offset != want {
				t.Fatalf("record at offset %d, want %d", in.cur.Offset, want)
			}
			in.has, in.next = false, in.cur.Offset+1
			read++
		}
		rec.gate.Unlock()
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	// The first fetches fill the queue (4), the fetcher's hand and the
	// worker's: six buffers in all, each allocated once.
	fresh := 0
	for _, r := range rec.reused {
		if !r {
			fresh++
		}
	}
	if fresh > 6 {
		t.Errorf("%d of %d fetches got no buffer to reuse, want at most 6 (%v)", fresh, len(rec.reused), rec.reused)
	}
}
