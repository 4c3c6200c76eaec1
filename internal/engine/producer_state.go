package engine

import "sync"

// The producer's bookkeeping beside its batches: per-topic state for the
// record path, and the budget of bytes waiting for their append.

// topicState is what send needs of one output topic.
type topicState struct {
	name    string
	parts   int32           // 0 until a record needs the default partitioner
	batches []*pendingBatch // by partition, nil until used; also in open
	maxSpan int64           // of its batches
}

// topic returns the state of an output topic.
func (p *producer) topic(name string) *topicState {
	if t := p.lastTopic; t != nil && t.name == name {
		return t
	}
	t := p.topics[name]
	if t == nil {
		t = &topicState{name: name, maxSpan: noHead}
		if p.repartition[name] && p.maxSpan >= 0 {
			t.maxSpan = p.maxSpan
		}
		p.topics[name] = t
	}
	p.lastTopic = t
	return t
}

// batch returns the open batch of a partition, or nil; it makes room for
// the partition in batches.
func (t *topicState) batch(partition int32) *pendingBatch {
	if int(partition) >= len(t.batches) {
		t.batches = append(t.batches, make([]*pendingBatch, int(partition)+1-len(t.batches))...)
	}
	return t.batches[partition]
}

// byteBudget blocks acquirers while more than max bytes are out; one
// acquisition is always let through when nothing is, however large.
type byteBudget struct {
	mu   sync.Mutex
	cond sync.Cond
	out  int
	max  int
}

func newByteBudget(max int) *byteBudget {
	b := &byteBudget{max: max}
	b.cond.L = &b.mu
	return b
}

func (b *byteBudget) acquire(n int) {
	b.mu.Lock()
	for b.out > 0 && b.out+n > b.max {
		b.cond.Wait()
	}
	b.out += n
	b.mu.Unlock()
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.out -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}
