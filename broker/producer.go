package broker

import (
	"fmt"
	"math"

	"github.com/eddy-streams/eddy/broker/batch"
)

// producerBatches is how many recent batches per producer are remembered
// for duplicate detection; Kafka keeps 5, matching the most in-flight
// requests an idempotent producer may have.
const producerBatches = 5

type seqBatch struct {
	firstSeq, lastSeq int32
	base, last        int64
}

// producerState is what a partition remembers of one idempotent producer.
type producerState struct {
	epoch  int16
	recent [producerBatches]seqBatch
	n      int // entries used in recent, newest at (head-1)
	head   int
}

func (s *producerState) lastSeq() int32 {
	return s.recent[(s.head+producerBatches-1)%producerBatches].lastSeq
}

func (s *producerState) add(b seqBatch) {
	s.recent[s.head] = b
	s.head = (s.head + 1) % producerBatches
	if s.n < producerBatches {
		s.n++
	}
}

func (s *producerState) find(first, last int32) *seqBatch {
	for i := 0; i < s.n; i++ {
		b := &s.recent[(s.head+producerBatches-1-i)%producerBatches]
		if b.firstSeq == first && b.lastSeq == last {
			return b
		}
	}
	return nil
}

// nextSeq is the sequence that follows seq; sequences wrap to 0 after the
// largest int32, as Kafka's do.
func nextSeq(seq int32) int32 {
	if seq == math.MaxInt32 {
		return 0
	}
	return seq + 1
}

func lastSeqOf(h batch.Header) int32 {
	return int32((int64(h.BaseSequence) + int64(h.LastOffsetDelta)) % (math.MaxInt32 + 1))
}

// checkSequence applies Kafka's idempotence rules to a batch; it returns the
// earlier write when the batch is a retry of one. Called with p.mu held.
func (p *Partition) checkSequence(h batch.Header) (*seqBatch, error) {
	first, last := h.BaseSequence, lastSeqOf(h)
	s := p.producers[h.ProducerID]
	switch {
	case s == nil:
		if first != 0 {
			return nil, fmt.Errorf("%w: producer %d is unknown to %s-%d and starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, p.Topic, p.Index, first)
		}
		return nil, nil
	case h.ProducerEpoch < s.epoch:
		return nil, fmt.Errorf("%w: producer %d epoch %d, current %d", ErrProducerFenced, h.ProducerID, h.ProducerEpoch, s.epoch)
	case h.ProducerEpoch > s.epoch:
		if first != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, first)
		}
		return nil, nil
	}
	if dup := s.find(first, last); dup != nil {
		return dup, nil
	}
	if want := nextSeq(s.lastSeq()); first != want {
		return nil, fmt.Errorf("%w: producer %d epoch %d sent sequence %d to %s-%d, expected %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, first, p.Topic, p.Index, want)
	}
	return nil, nil
}

// recordSequence remembers a written batch. Called with p.mu held.
func (p *Partition) recordSequence(h batch.Header, base, last int64) {
	s := p.producers[h.ProducerID]
	if s == nil || h.ProducerEpoch > s.epoch {
		s = &producerState{epoch: h.ProducerEpoch}
		p.producers[h.ProducerID] = s
	}
	s.add(seqBatch{firstSeq: h.BaseSequence, lastSeq: lastSeqOf(h), base: base, last: last})
}

// restoreProducers rebuilds producer state from the batch headers in the
// log, so a retry arriving after a restart is still recognised.
func (p *Partition) restoreProducers() error {
	return p.log.ScanHeaders(func(h batch.Header) error {
		if h.ProducerID >= 0 && !h.Control() {
			p.recordSequence(h, h.BaseOffset, h.LastOffset())
		}
		return nil
	})
}
