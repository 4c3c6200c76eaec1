package nexmark

import (
	"container/heap"
	"iter"
	"math/rand/v2"
)

// Salts keep the random streams of an event's fields, of its delay and of
// the channel URLs apart although all are seeded from the same numbers.
const (
	delaySalt   = 0x64656c6179 // "delay"
	channelSalt = 0x6368616e6e656c
	hotURLSalt  = 0x686f7475726c
)

// Generator produces Nexmark events, deterministically from its seed and
// options. It is not safe for concurrent use.
type Generator struct {
	cfg     config
	delayUs float64 // event time between consecutive events, µs

	next     int64 // events generated so far (generation order)
	pending  delayed
	hotURLs  [len(hotChannel)]string
	channels []string // numbered channels' URLs, filled on first use

	fields, delays *rand.PCG
	fieldRng       *rand.Rand
	delayRng       *rand.Rand
}

// New returns a generator configured by opts.
func New(opts ...Option) (*Generator, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, delayUs: 1e6 / cfg.rate, fields: rand.NewPCG(0, 0), delays: rand.NewPCG(0, 0)}
	g.fieldRng, g.delayRng = rand.New(g.fields), rand.New(g.delays)
	for i := range g.hotURLs {
		g.hotURLs[i] = baseURL(rand.New(rand.NewPCG(cfg.seed, mix(uint64(i)^hotURLSalt))))
	}
	return g, nil
}

// MaxLateness bounds, in milliseconds, how far behind the largest
// timestamp emitted before it an event's timestamp can be. An out-of-order
// group spans s ms of event time, so without delays an event trails the
// others of its group by at most s; a delayed event's turn comes up to the
// longest delay d after its generation turn, and both its timestamp and
// those emitted before it may be shuffled by s within their groups: d + 2s.
// Windowed queries use it as their grace period so that no event is late.
func (g *Generator) MaxLateness() int64 {
	span := g.timestampOf(g.cfg.groupSize-1) - g.timestampOf(0) + 1
	if g.cfg.delayProb > 0 {
		return g.cfg.maxDelay + 2*span
	}
	return span
}

// timestampOf is the event time of event number n: the base time plus n
// inter-event delays, in whole milliseconds.
func (g *Generator) timestampOf(n int64) int64 {
	return g.cfg.baseTime + int64(float64(n)*g.delayUs)/1000
}

// adjusted is Nexmark's out-of-order shuffle: the event number that event
// n of generation order takes, a permutation within each group.
func (g *Generator) adjusted(n int64) int64 {
	k := g.cfg.groupSize
	return n/k*k + n*953%k
}

// Next returns the next event, and false once Events events were returned.
func (g *Generator) Next() (Event, bool) {
	for {
		// Release the earliest delayed event once no event still to be
		// generated can come before it.
		if len(g.pending) > 0 && (g.done() || g.pending[0].emitAt <= g.timestampOf(g.next)) {
			return heap.Pop(&g.pending).(held).ev, true
		}
		if g.done() {
			return Event{}, false
		}
		n := g.next
		g.next++
		ev := g.generate(n)
		if d := g.delay(n); d > 0 {
			heap.Push(&g.pending, held{emitAt: g.timestampOf(n) + d, ev: ev})
			continue
		}
		if len(g.pending) == 0 {
			return ev, true
		}
		heap.Push(&g.pending, held{emitAt: g.timestampOf(n), ev: ev})
	}
}

// All returns the remaining events as an iterator.
func (g *Generator) All() iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for {
			ev, ok := g.Next()
			if !ok || !yield(ev) {
				return
			}
		}
	}
}

func (g *Generator) done() bool { return g.cfg.events > 0 && g.next >= g.cfg.events }

// generate builds event number n (generation order). Its fields come from
// a random stream seeded by the seed and its id, so they do not depend on
// the events before it.
func (g *Generator) generate(n int64) Event {
	id := g.adjusted(n)
	ts := g.timestampOf(id)
	g.fields.Seed(g.cfg.seed, mix(uint64(id)))
	ev := Event{ID: id, Number: n}
	switch rem := id % g.cfg.total(); {
	case rem < g.cfg.personProp:
		ev.Person = g.person(id, ts, g.fieldRng)
	case rem < g.cfg.personProp+g.cfg.auctionProp:
		ev.Auction = g.auction(id, ts, g.fieldRng)
	default:
		ev.Bid = g.bid(id, ts, g.fieldRng)
	}
	return ev
}

// delay returns how much later than its turn event n is emitted (0: on
// time).
func (g *Generator) delay(n int64) int64 {
	if g.cfg.delayProb == 0 {
		return 0
	}
	g.delays.Seed(g.cfg.seed^delaySalt, mix(uint64(n)))
	if g.delayRng.Float64() >= g.cfg.delayProb {
		return 0
	}
	return 1 + g.delayRng.Int64N(g.cfg.maxDelay)
}

// mix is SplitMix64's finalizer: neighbouring ids seed unrelated streams.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// held is an event waiting for its (delayed) turn.
type held struct {
	emitAt int64
	ev     Event
}

// delayed is a min-heap of held events by turn, then generation order.
type delayed []held

func (h delayed) Len() int { return len(h) }
func (h delayed) Less(i, j int) bool {
	if h[i].emitAt != h[j].emitAt {
		return h[i].emitAt < h[j].emitAt
	}
	return h[i].ev.Number < h[j].ev.Number
}
func (h delayed) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayed) Push(x any)   { *h = append(*h, x.(held)) }
func (h *delayed) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
