package window

import (
	"container/heap"
	"math"
	"slices"
)

// closeQueue is the windows an EmitFinal operator has still to emit, by
// the time they close. It lives in memory only: the store already holds
// every window, and its meta entry the operator's time, so a task that
// opens again rebuilds the queue from the windows that have not closed by
// that time (operator.loadCloseQueue). Keeping it out of the store saves
// two writes per window (an entry when it opens, its deletion when it
// closes), their changelog records and a scan of those entries per close.
type closeQueue struct {
	times closeTimes         // the close times that have windows, a min-heap
	keys  map[int64][]string // window entries' keys by close time
}

func newCloseQueue() *closeQueue { return &closeQueue{keys: map[int64][]string{}} }

// add queues the window entry wkey (copied) to be emitted at close.
func (q *closeQueue) add(close int64, wkey []byte) {
	ks, ok := q.keys[close]
	if !ok {
		heap.Push(&q.times, close)
	}
	q.keys[close] = append(ks, string(wkey))
}

// next is the earliest close time queued, math.MaxInt64 if none.
func (q *closeQueue) next() int64 {
	if len(q.times) == 0 {
		return math.MaxInt64
	}
	return q.times[0]
}

// pop removes the earliest close time's windows and returns their keys in
// key order, each once: a session merged away and made again with the same
// bounds would otherwise be queued twice.
func (q *closeQueue) pop() []string {
	close := heap.Pop(&q.times).(int64)
	ks := q.keys[close]
	delete(q.keys, close)
	slices.Sort(ks)
	return slices.Compact(ks)
}

// closeTimes is a min-heap of close times (container/heap).
type closeTimes []int64

func (h closeTimes) Len() int           { return len(h) }
func (h closeTimes) Less(i, j int) bool { return h[i] < h[j] }
func (h closeTimes) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *closeTimes) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *closeTimes) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
