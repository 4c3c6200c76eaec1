package clienttest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
)

func testErrors(t *testing.T, s *suite) {
	topic := s.topic(t, "errors", 1)
	missing := s.name("missing")
	data := encode(t, batch.None, records(0, 2, 1_700_000_000_000))
	unknown := func(what, name string, err error) {
		t.Helper()
		if !errors.Is(err, broker.ErrUnknownTopic) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want ErrUnknownTopic naming %s", what, err, name)
		}
	}
	for _, c := range []struct {
		topic string
		p     int32
	}{{missing, 0}, {topic, 7}} {
		_, err := s.c.Append(s.ctx, c.topic, c.p, data)
		unknown("append to "+c.topic, c.topic, err)
		_, err = s.c.Fetch(s.ctx, c.topic, c.p, 0, 1<<20, 0)
		unknown("fetch from "+c.topic, c.topic, err)
		_, err = s.c.ListOffset(s.ctx, c.topic, c.p, broker.Latest)
		unknown("list offset of "+c.topic, c.topic, err)
	}
	if _, err := s.c.Partitions(s.ctx, missing); !errors.Is(err, broker.ErrUnknownTopic) {
		t.Errorf("the failed calls created %s: %v", missing, err)
	}

	s.appendRecs(t, topic, 0, batch.None, records(0, 2, 1_700_000_000_000), 0)
	if _, err := s.c.Fetch(s.ctx, topic, 0, 10, 1<<20, 0); !errors.Is(err, log.ErrOffsetOutOfRange) {
		t.Errorf("fetch past the high watermark: %v, want ErrOffsetOutOfRange", err)
	}

	// A corrupt batch (a flipped bit under the CRC) is refused, and nothing
	// is appended.
	bad := encode(t, batch.None, records(0, 2, 1_700_000_000_000))
	bad[len(bad)-3] ^= 0x10
	if _, err := s.c.Append(s.ctx, topic, 0, bad); !errors.Is(err, log.ErrInvalidBatch) {
		t.Errorf("append a corrupt batch: %v, want ErrInvalidBatch", err)
	}
	if hw, err := s.c.ListOffset(s.ctx, topic, 0, broker.Latest); err != nil || hw != 2 {
		t.Errorf("high watermark after a refused append: %d, %v; want 2", hw, err)
	}
}

// testConcurrentAppends appends from several goroutines, two of them to the
// same partition, while another goroutine long-polls: every append gets its
// own offsets, and every record is read back once.
func testConcurrentAppends(t *testing.T, s *suite) {
	const parts, writers, appends, per = 3, 4, 15, 10
	topic := s.topic(t, "concurrent", parts)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		bases = map[int32][]int64{}
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := int32(w % parts) // writers 0 and 3 share partition 0
			for i := 0; i < appends; i++ {
				b := batch.NewBuilder(batch.BuilderOptions{})
				for _, r := range records(w*1000+i*per, per, 1_700_000_000_000) {
					b.Add(r)
				}
				data, err := b.Build(nil)
				if err != nil {
					t.Error(err)
					return
				}
				base, err := s.c.Append(s.ctx, topic, p, data)
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				mu.Lock()
				bases[p] = append(bases[p], base)
				mu.Unlock()
			}
		}(w)
	}
	pollCtx, stopPoll := context.WithCancel(s.ctx)
	defer stopPoll()
	polled := make(chan int64, 1)
	go func() {
		var next int64
		for next < 2*appends*per {
			res, err := s.c.Fetch(pollCtx, topic, 0, next, 1<<20, 2*time.Second)
			if err != nil {
				if pollCtx.Err() == nil {
					t.Errorf("poller: %v", err)
				}
				break
			}
			for _, r := range decode(t, res.Batches) {
				if r.Offset >= next {
					next = r.Offset + 1
				}
			}
		}
		polled <- next
	}()
	wg.Wait()
	if t.Failed() {
		stopPoll()
		<-polled
		return
	}
	for p := int32(0); p < parts; p++ {
		n := int64(appends * per)
		if p == 0 {
			n *= 2
		}
		seen := map[int64]bool{}
		for _, b := range bases[p] {
			if b%per != 0 || b < 0 || b >= n || seen[b] {
				t.Fatalf("partition %d: base offsets %v are not distinct multiples of %d below %d", p, bases[p], per, n)
			}
			seen[b] = true
		}
		if got := len(s.readRange(t, topic, p, 0, n)); int64(got) != n {
			t.Fatalf("partition %d: read %d records, want %d", p, got, n)
		}
	}
	if next := <-polled; next != 2*appends*per {
		t.Fatalf("poller reached offset %d, want %d", next, 2*appends*per)
	}
}
