package clienttest

import (
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
)

func testAppendFetch(t *testing.T, s *suite) {
	topic := s.topic(t, "data", 2)
	first, second := records(0, 5, 1_700_000_000_000), records(5, 3, 1_700_000_010_000)
	s.appendRecs(t, topic, 1, batch.None, first, 0)
	s.appendRecs(t, topic, 1, batch.None, second, 5)
	// Two batches in one append get consecutive offsets.
	third, fourth := records(8, 2, 1_700_000_020_000), records(10, 2, 1_700_000_030_000)
	two := append(encode(t, batch.None, third), encode(t, batch.None, fourth)...)
	if base, err := s.c.Append(s.ctx, topic, 1, two); err != nil || base != 8 {
		t.Fatalf("append two batches: base %d, %v; want 8", base, err)
	}
	want := append(append(append(first, second...), third...), fourth...)

	res, err := s.c.Fetch(s.ctx, topic, 1, 0, 1<<20, 0)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if res.HighWatermark != 12 || res.LogStartOffset != 0 {
		t.Fatalf("fetch bounds: high watermark %d, log start %d; want 12, 0", res.HighWatermark, res.LogStartOffset)
	}
	sameRecords(t, s.readRange(t, topic, 1, 0, 12), want, 0)

	// From the middle of a batch: the batch comes whole, records from 6 on
	// are the ones appended.
	sameRecords(t, s.readRange(t, topic, 1, 6, 12), want[6:], 6)

	// A tiny maxBytes still returns a whole batch.
	res, err = s.c.Fetch(s.ctx, topic, 1, 0, 1, 0)
	if err != nil || len(decode(t, res.Batches)) == 0 {
		t.Fatalf("fetch with maxBytes 1: %d bytes, %v; want at least one batch", len(res.Batches), err)
	}

	// At the high watermark, and on the untouched partition: no data, at once.
	for _, c := range []struct {
		p          int32
		off, hwmar int64
	}{{1, 12, 12}, {0, 0, 0}} {
		start := time.Now()
		res, err := s.c.Fetch(s.ctx, topic, c.p, c.off, 1<<20, 0)
		if err != nil || len(res.Batches) != 0 || res.HighWatermark != c.hwmar {
			t.Fatalf("fetch %s-%d at %d: %d bytes, high watermark %d, %v; want none, %d", topic, c.p, c.off, len(res.Batches), res.HighWatermark, err, c.hwmar)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("fetch without wait took %v", d)
		}
	}
}

func testCodecs(t *testing.T, s *suite) {
	topic := s.topic(t, "codecs", 1)
	next := int64(0)
	for _, codec := range []batch.Codec{batch.Gzip, batch.Snappy, batch.LZ4, batch.Zstd, batch.None} {
		recs := records(int(next), 50, 1_700_000_000_000+next)
		s.appendRecs(t, topic, 0, codec, recs, next)
		got := s.readRange(t, topic, 0, next, next+50)
		sameRecords(t, got, recs, next)
		next += 50
	}
}

func testLongPoll(t *testing.T, s *suite) {
	topic := s.topic(t, "longpoll", 1)

	// No data: the fetch waits about maxWait, then returns nothing.
	start := time.Now()
	res, err := s.c.Fetch(s.ctx, topic, 0, 0, 1<<20, 400*time.Millisecond)
	if d := time.Since(start); err != nil || len(res.Batches) != 0 || d < 300*time.Millisecond || d > 5*time.Second {
		t.Fatalf("empty long poll: %d bytes, %v after %v; want nothing after about 400ms", len(res.Batches), err, d)
	}

	// Data arriving during the wait ends it early.
	type result struct {
		data []byte
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		res, err := s.c.Fetch(s.ctx, topic, 0, 0, 1<<20, 20*time.Second)
		done <- result{res.Batches, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	recs := records(0, 3, 1_700_000_000_000)
	s.appendRecs(t, topic, 0, batch.None, recs, 0)
	r := <-done
	if r.err != nil || r.took > 10*time.Second {
		t.Fatalf("long poll with an append: %v after %v", r.err, r.took)
	}
	got := decode(t, r.data)
	if len(got) == 0 {
		t.Fatalf("long poll woke after %v without data", r.took)
	}
	sameRecords(t, got, recs[:len(got)], 0)

	// Cancelling the context ends the wait.
	ctx, cancel := contextWithCancelAfter(s.ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = s.c.Fetch(ctx, topic, 0, 3, 1<<20, 20*time.Second)
	if d := time.Since(start); err == nil || ctx.Err() == nil || d > 5*time.Second {
		t.Fatalf("cancelled long poll: %v after %v; want the context's error within seconds", err, d)
	}
}
