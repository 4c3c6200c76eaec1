package engine

import "testing"

func TestAlignLimit(t *testing.T) {
	g := &alignGroup{drift: 1000}
	a, b, c := &task{}, &task{}, &task{}
	for _, x := range []*task{a, b, c} {
		g.join(x)
	}
	// New members hold the others at the epoch until they publish.
	if got := g.limit(a); got != 1000 {
		t.Fatalf("limit with unpublished members %d, want 1000", got)
	}
	a.head.Store(5_000)
	b.head.Store(7_000)
	c.head.Store(noHead) // nothing waiting: holds nobody back
	if got := g.limit(b); got != 6_000 {
		t.Fatalf("limit of b %d, want a's head + drift", got)
	}
	// The earliest task is never held back by its own head.
	if got := g.limit(a); got != 8_000 {
		t.Fatalf("limit of a %d, want b's head + drift", got)
	}
	b.head.Store(noHead)
	if got := g.limit(a); got != noHead {
		t.Fatalf("limit of a with nothing waiting elsewhere %d, want none", got)
	}
	g.leave(a)
	if got := g.limit(b); got != noHead {
		t.Fatalf("limit after the earliest left %d, want none", got)
	}
}

func TestNextHead(t *testing.T) {
	in1, in2 := &input{next: 10}, &input{next: 3}
	tk := &task{inputs: []*input{in1, in2}, streamTime: 400}
	in1.hw.Store(-1)
	in2.hw.Store(3)
	if got := tk.nextHead(); got != 400 {
		t.Fatalf("head with an input not fetched yet %d, want the stream time", got)
	}
	in1.hw.Store(10) // fetched, nothing more
	if got := tk.nextHead(); got != noHead {
		t.Fatalf("head of a drained task %d, want none", got)
	}
	in1.cur.Timestamp, in1.has = 900, true
	if got := tk.nextHead(); got != 900 {
		t.Fatalf("head %d, want the buffered record's 900", got)
	}
	in2.hw.Store(8) // records waiting at the broker, none buffered
	if got := tk.nextHead(); got != 400 {
		t.Fatalf("head %d, want the stream time 400", got)
	}
}

// TestAlignLimitCountsOtherWorkersQueues checks that records another
// worker has sealed for a repartition topic but not appended hold a task
// back, and that its own worker's do not.
func TestAlignLimitCountsOtherWorkersQueues(t *testing.T) {
	mine, other := &producer{writers: map[tp]*partitionWriter{}}, &producer{writers: map[tp]*partitionWriter{}}
	other.writers[tp{"x-repartition", 1}] = &partitionWriter{queuedMin: []int64{4_000, 3_000}}
	mine.writers[tp{"x-repartition", 0}] = &partitionWriter{queuedMin: []int64{100}}
	g := &alignGroup{drift: 1000, producers: []*producer{mine, other}}
	a, b := &task{out: mine}, &task{out: other}
	g.join(a)
	g.join(b)
	b.head.Store(9_000)
	if got := g.limit(a); got != 4_000 {
		t.Fatalf("limit of a %d, want the other worker's queued 3000 + drift", got)
	}
	if got := g.limit(b); got != 1_000 {
		t.Fatalf("limit of b %d, want a's head 0 + drift (a's worker's queue 100 is later)", got)
	}
	other.writers[tp{"x-repartition", 1}].queuedMin = nil
	if got := g.limit(a); got != 10_000 {
		t.Fatalf("limit of a %d once appended, want b's head + drift", got)
	}
}
