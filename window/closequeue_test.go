package window

import (
	"math"
	"slices"
	"testing"
)

func TestCloseQueueOrder(t *testing.T) {
	q := newCloseQueue()
	if q.next() != math.MaxInt64 {
		t.Fatalf("empty queue's next = %d", q.next())
	}
	buf := []byte("b")
	q.add(30, buf)
	buf[0] = 'z' // the queue keeps a copy
	q.add(10, []byte("c"))
	q.add(10, []byte("a"))
	q.add(20, []byte("x"))
	q.add(10, []byte("a")) // queued twice: popped once
	var got [][]string
	var times []int64
	for q.next() != math.MaxInt64 {
		times = append(times, q.next())
		got = append(got, q.pop())
	}
	if !slices.Equal(times, []int64{10, 20, 30}) {
		t.Fatalf("close times %v, want [10 20 30]", times)
	}
	want := [][]string{{"a", "c"}, {"x"}, {"b"}}
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("popped %q, want %q", got, want)
	}
}
