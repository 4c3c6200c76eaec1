package engine

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/internal/topology"
)

// Event-time alignment of the tasks that write a repartition topic.
//
// Each partition of a repartition topic interleaves the records of every
// task of the sub-topology writing it, in the order they were appended. A
// downstream window operator takes the largest timestamp it has seen as its
// time, so when one writer runs ahead in event time — its worker less
// loaded than another's, which happens all the time while catching up on a
// backlog — the other writers' records reach it late and are dropped once
// past the grace period. Within one instance the engine prevents that: a
// task of such a sub-topology does not take a record more than
// Config.MaxTaskDrift ahead of the earliest record waiting in any other task
// of its sub-topology (Flink's watermark alignment does the same for
// sources). Tasks with nothing waiting do not hold others back; tasks with
// records that may wait at the broker (known to, or no fetch answered yet)
// do, at their stream time; so do the records another worker has sealed
// for a repartition topic but not yet appended (its producer's floor). The task
// holding the earliest record is never held back, so processing always
// moves on. Across instances nothing is aligned: there the grace period
// must cover the skew.

// noHead is the head of a task with nothing waiting.
const noHead = math.MaxInt64

// alignGroup is the tasks of one sub-topology running in this instance.
type alignGroup struct {
	drift int64 // ms
	// producers are every worker's: what one has sealed for a repartition
	// topic but not appended yet holds the other workers' tasks back too.
	producers []*producer

	mu      sync.Mutex
	members atomic.Pointer[[]*task] // replaced, never modified, under mu
}

// alignGroups returns a group for every sub-topology that writes a
// repartition topic, or none when drift is negative.
func alignGroups(topo *topology.Topology, subs []*topology.Subtopology, drift time.Duration, producers []*producer) map[int]*alignGroup {
	groups := map[int]*alignGroup{}
	if drift < 0 {
		return groups
	}
	for _, sub := range subs {
		for _, n := range sub.Nodes {
			if n.Kind != topology.Sink {
				continue
			}
			if it := topo.InternalTopics[n.Topics[0]]; it != nil && it.Repartition {
				groups[sub.ID] = &alignGroup{drift: drift.Milliseconds(), producers: producers}
				break
			}
		}
	}
	return groups
}

func (g *alignGroup) join(t *task) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// Until its first round publishes a head, a new member holds the
	// others back at the epoch: its records may be the earliest.
	t.head.Store(0)
	var ms []*task
	if p := g.members.Load(); p != nil {
		ms = slices.Clone(*p)
	}
	ms = append(ms, t)
	g.members.Store(&ms)
}

func (g *alignGroup) leave(t *task) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if p := g.members.Load(); p != nil {
		ms := slices.DeleteFunc(slices.Clone(*p), func(m *task) bool { return m == t })
		g.members.Store(&ms)
	}
}

// limit is the latest timestamp t may take now: drift past the earliest
// head of the other members.
func (g *alignGroup) limit(t *task) int64 {
	low := int64(noHead)
	if p := g.members.Load(); p != nil {
		for _, m := range *p {
			if m != t {
				low = min(low, m.head.Load())
			}
		}
	}
	for _, pr := range g.producers {
		// A worker's own unappended records go out before anything it
		// sends later, so only the other workers' count.
		if sender(pr) != t.out {
			low = min(low, pr.floor())
		}
	}
	if low > noHead-g.drift {
		return noHead
	}
	return low + g.drift
}

// nextHead is the timestamp t would hold others back at: its earliest
// buffered record, or its stream time while an input may have records at
// the broker but none buffered (records known to wait there, or no fetch
// answered yet); noHead if nothing waits.
func (t *task) nextHead() int64 {
	head := int64(noHead)
	for _, in := range t.inputs {
		switch hw := in.hw.Load(); {
		case in.has:
			head = min(head, in.cur.Timestamp)
		case hw < 0 || hw > in.next:
			head = min(head, max(t.streamTime, 0))
		}
	}
	return head
}
