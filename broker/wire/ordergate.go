package wire

import "sync"

// orderGate lets handlers of one connection run a section in the order
// their requests arrived, while everything else about them runs
// concurrently. Kafka processes a connection's requests one at a time; an
// idempotent producer pipelines up to five produce requests and relies on
// them being applied in order, or its sequence numbers arrive out of order.
// Only requests of keys registered with Ordered take part, so a long-poll
// fetch never holds back a produce.
type orderGate struct {
	mu     sync.Mutex
	cond   *sync.Cond
	passed int64          // every request with a lower ticket has passed
	early  map[int64]bool // tickets that passed before their turn came
}

func newOrderGate() *orderGate {
	g := &orderGate{early: map[int64]bool{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait blocks until every request with a lower ticket has passed.
func (g *orderGate) wait(ticket int64) {
	g.mu.Lock()
	for g.passed < ticket {
		g.cond.Wait()
	}
	g.mu.Unlock()
}

// pass marks ticket as through the gate; calling it twice is harmless.
func (g *orderGate) pass(ticket int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ticket < g.passed {
		return
	}
	g.early[ticket] = true
	for g.early[g.passed] {
		delete(g.early, g.passed)
		g.passed++
	}
	g.cond.Broadcast()
}

// Ordered makes the key's requests take part in RequestContext.InOrder.
func Ordered() HandleOption {
	return handleOptionFunc(func(r *route) { r.ordered = true })
}

// InOrder runs f after the InOrder sections of every earlier request of an
// Ordered key on this connection have run (or those requests finished), so
// writes happen in the order a pipelining client sent them. For keys not
// registered with Ordered it just runs f.
func (rc *RequestContext) InOrder(f func()) {
	if rc.gate == nil {
		f()
		return
	}
	rc.gate.wait(rc.ticket)
	defer rc.gate.pass(rc.ticket)
	f()
}
