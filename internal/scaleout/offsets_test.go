package scaleout

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
)

// committed returns the group's committed offset of every input partition
// (0 where none is).
func committed(t *testing.T, c broker.Client) [inputParts]int64 {
	t.Helper()
	var tps []broker.TopicPartition
	for p := range int32(inputParts) {
		tps = append(tps, broker.TopicPartition{Topic: inputTopic, Partition: p})
	}
	offs, err := c.CommittedOffsets(context.Background(), appID, tps)
	if err != nil {
		t.Fatal(err)
	}
	var out [inputParts]int64
	for _, o := range offs {
		out[o.Partition] = max(o.Offset, 0)
	}
	return out
}

// stallLimit is how long waitCommitted lets the group's committed offsets
// stand still before it fails. It bounds a stall, not the whole wait: under
// the race detector, with other packages' tests on the same two cores, the
// backlog alone can take longer than any fixed deadline that would still
// catch a hang quickly.
const stallLimit = 20 * time.Second

// waitCommitted waits until every partition's committed offset reaches
// ends, failing if the offsets stop moving for stallLimit.
func waitCommitted(t *testing.T, c broker.Client, ends [inputParts]int64) {
	t.Helper()
	last := committed(t, c)
	moved := time.Now()
	for {
		offs := committed(t, c)
		done := true
		for p := range offs {
			done = done && offs[p] >= ends[p]
		}
		if done {
			return
		}
		if offs != last {
			last, moved = offs, time.Now()
		} else if time.Since(moved) > stallLimit {
			t.Fatalf("the group did not commit up to %v: stuck at %v for %v", ends, offs, stallLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitPast waits until every partition of ps has a committed offset past
// from, and returns when that happened.
func waitPast(t *testing.T, c broker.Client, ps []int32, from [inputParts]int64) time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		offs := committed(t, c)
		done := true
		for _, p := range ps {
			done = done && offs[p] > from[p]
		}
		if done {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("partitions %v committed nothing past %v", ps, pick(from, ps))
	return time.Time{}
}

// sampler records the committed offsets every few milliseconds.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	done    chan struct{}
	cancel  context.CancelFunc
}

type sample struct {
	at   time.Time
	offs [inputParts]int64
}

func startSampler(t *testing.T, c broker.Client) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			offs := committed(t, c)
			s.mu.Lock()
			s.samples = append(s.samples, sample{at: time.Now(), offs: offs})
			s.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return s
}

func (s *sampler) stop() { s.cancel(); <-s.done }

// at returns the last sample taken at or before when (the first if none).
func (s *sampler) at(when time.Time) [inputParts]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.samples[0].offs
	for _, x := range s.samples {
		if x.at.After(when) {
			break
		}
		out = x.offs
	}
	return out
}
