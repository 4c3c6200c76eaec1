package streamtest_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
)

// ticker forwards each record as it comes and, on each punctuation, a
// record saying which schedule fired, in which task, at what time and
// what the clock read.
type ticker struct {
	pc     *stream.ProcessorContext[string, int64]
	kind   stream.PunctuationType
	every  []time.Duration
	failAt int64 // a punctuation at or after this time fails (0: never)
	closed *int
}

func (p *ticker) Init(pc *stream.ProcessorContext[string, int64]) error {
	p.pc = pc
	for i, iv := range p.every {
		err := pc.Schedule(iv, p.kind, func(ts int64) error {
			if p.failAt > 0 && ts >= p.failAt {
				return errors.New("punctuation gave up")
			}
			key := fmt.Sprintf("%v/%d/task%d/now=%d", p.kind, i, pc.Partition(), pc.Now().UnixMilli())
			return pc.Forward(stream.Record[string, int64]{Key: key, Value: ts, Timestamp: ts})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *ticker) Process(r stream.Record[string, int64]) error { return p.pc.Forward(r) }

func (p *ticker) Close() error {
	*p.closed++
	return nil
}

func tickerApp(appID string, kind stream.PunctuationType, failAt int64, closed *int, every ...time.Duration) *stream.Builder {
	b := stream.NewBuilder(appID)
	stream.Process(stream.From(b, "in", serde.String, serde.Int64), func() stream.Processor[string, int64, string, int64] {
		return &ticker{kind: kind, every: every, failAt: failAt, closed: closed}
	}, stream.Serdes(serde.String, serde.Int64)).To("ticks", nil, nil)
	return b
}

type tick struct {
	at   int64
	task int32
	sch  int
}

func TestWallClockPunctuationsFireInOrderAsTheClockAdvances(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 250e6, time.UTC)
	every := []time.Duration{10 * time.Second, 15 * time.Second}
	closed := 0
	d := start(t, tickerApp("wall", stream.WallClock, 0, &closed, every...), streamtest.WallClock(t0), streamtest.Partitions("in", 2))
	out := streamtest.Output(d, "ticks", serde.String, serde.Int64)

	// What should fire up to each point: every multiple of each interval
	// after the start, ordered by time, then task, then schedule.
	expect := func(from, to time.Duration) []string {
		var ticks []tick
		for task := range int32(2) {
			for i, iv := range every {
				for at := iv; at <= to; at += iv {
					if at > from {
						ticks = append(ticks, tick{at: t0.Add(at).UnixMilli(), task: task, sch: i})
					}
				}
			}
		}
		slices.SortFunc(ticks, func(a, b tick) int {
			if a.at != b.at {
				return int(a.at - b.at)
			}
			if a.task != b.task {
				return int(a.task - b.task)
			}
			return a.sch - b.sch
		})
		var s []string
		for _, tk := range ticks {
			s = append(s, fmt.Sprintf("WallClock/%d/task%d/now=%d=%d", tk.sch, tk.task, tk.at, tk.at))
		}
		return s
	}
	read := func() []string {
		var s []string
		for _, r := range out.ReadAll() {
			s = append(s, fmt.Sprintf("%s=%d", r.Key, r.Value))
		}
		return s
	}
	for _, step := range []struct{ by, total time.Duration }{
		{9 * time.Second, 9 * time.Second},   // nothing due yet
		{36 * time.Second, 45 * time.Second}, // several rounds in one call
		{4*time.Second + 999*time.Millisecond, 49*time.Second + 999*time.Millisecond},
		{time.Millisecond, 50 * time.Second}, // exactly on a schedule
		{2 * time.Minute, 170 * time.Second},
	} {
		prev := step.total - step.by
		if err := d.AdvanceWallClock(step.by); err != nil {
			t.Fatal(err)
		}
		if got, want := read(), expect(prev, step.total); !slices.Equal(got, want) {
			t.Fatalf("advancing to +%v fired\n%v\nwant\n%v", step.total, got, want)
		}
		if !d.Now().Equal(t0.Add(step.total)) {
			t.Fatalf("clock reads %v, want %v", d.Now(), t0.Add(step.total))
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if closed != 2 {
		t.Fatalf("processor Close called %d times, want once per task (2)", closed)
	}
}

func TestStreamTimePunctuationsFollowRecords(t *testing.T) {
	const every = 5 * time.Second
	closed := 0
	d := start(t, tickerApp("streamtime", stream.StreamTime, 0, &closed, every), streamtest.Partitions("in", 2))
	evs := randomEvents(20, 300, 6, false)
	pipeAll(t, streamtest.Input(d, "in", serde.String, serde.Int64), evs)

	// The schedule of each task starts at its first record's time and
	// fires, once, whenever stream time (the largest timestamp so far)
	// reaches it, after the record that moved it.
	streamTime := map[int32]int64{}
	next := map[int32]int64{}
	var want []string
	for _, e := range evs {
		want = append(want, fmt.Sprintf("%s=%d@%d", e.key, e.value, e.ts))
		p := partitionOf(serde.String, e.key, 2)
		st, seen := streamTime[p]
		st = max(st, e.ts)
		if !seen {
			st = e.ts
		}
		streamTime[p] = st
		n, started := next[p]
		switch {
		case !started:
			next[p] = st + every.Milliseconds()
		case st >= n:
			want = append(want, fmt.Sprintf("StreamTime/0/task%d/now=0=%d@%d", p, st, st))
			for n <= st {
				n += every.Milliseconds()
			}
			next[p] = n
		}
	}
	var got []string
	for _, r := range streamtest.Output(d, "ticks", serde.String, serde.Int64).ReadAll() {
		got = append(got, fmt.Sprintf("%s=%d@%d", r.Key, r.Value, r.Timestamp))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d records, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
	}
	if len(got) <= len(evs) {
		t.Fatal("no punctuation fired")
	}
	// Stream-time punctuations do not follow the wall clock.
	if err := d.AdvanceWallClock(time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := streamtest.Output(d, "ticks", serde.String, serde.Int64).Unread(); n != len(want) {
		t.Fatalf("%d records after an hour of wall clock, want %d", n, len(want))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestFailingPunctuations(t *testing.T) {
	t.Run("wall clock stops the driver", func(t *testing.T) {
		t0 := time.UnixMilli(baseTS)
		closed := 0
		d := start(t, tickerApp("wallfail", stream.WallClock, baseTS+30_000, &closed, 10*time.Second), streamtest.WallClock(t0))
		err := d.AdvanceWallClock(time.Minute)
		if err == nil || !strings.Contains(err.Error(), "punctuation gave up") {
			t.Fatalf("advance: %v", err)
		}
		if n := streamtest.Output(d, "ticks", serde.String, serde.Int64).Unread(); n != 2 {
			t.Fatalf("%d punctuations before the failure, want 2", n)
		}
		if err := d.AdvanceWallClock(time.Second); !errors.Is(err, streamtest.ErrStopped) {
			t.Fatalf("advance after failure: %v", err)
		}
	})
	t.Run("stream time goes through the processing policy", func(t *testing.T) {
		closed := 0
		d := start(t, tickerApp("streamfail", stream.StreamTime, baseTS+30_000, &closed, 10*time.Second),
			streamtest.AppConfig(stream.Config{OnProcessingError: stream.DeadLetterTo("dead")}))
		in := streamtest.Input(d, "in", serde.String, serde.Int64)
		for i := range int64(8) {
			if err := in.Pipe("k", i, time.UnixMilli(baseTS+i*10_000)); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
		dead := streamtest.Output(d, "dead", serde.String, serde.Int64).ReadAll()
		// Records 3..7 reach the failing schedule; each is dead-lettered.
		if len(dead) != 5 || dead[0].Value != 3 {
			t.Fatalf("dead letters %+v, want records 3 to 7", dead)
		}
		if got, _ := dead[0].Header("eddy.error"); !strings.Contains(string(got), "punctuation gave up") {
			t.Fatalf("dead letter error %q", got)
		}
	})
}
