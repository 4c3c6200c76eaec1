package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
)

// producer holds the idempotent producer's state: one producer id for the
// client, a sequence number per partition, and a one-slot semaphore per
// partition so appends to a partition go one at a time, in call order
// (Kafka rejects sequences out of order).
type producer struct {
	initMu sync.Mutex // one InitProducerId at a time

	mu       sync.Mutex
	disabled bool  // idempotence off: by config, or refused by the cluster
	id       int64 // -1 until InitProducerId
	epoch    int16
	seqs     map[broker.TopicPartition]sequence
	slots    map[broker.TopicPartition]chan struct{}
}

// sequence is the next sequence number of a partition under a producer id.
type sequence struct {
	id   int64
	next int32
}

func newProducer() *producer {
	return &producer{id: -1, seqs: map[broker.TopicPartition]sequence{}, slots: map[broker.TopicPartition]chan struct{}{}}
}

func (p *producer) slot(tp broker.TopicPartition) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[tp]
	if s == nil {
		s = make(chan struct{}, 1)
		p.slots[tp] = s
	}
	return s
}

// Append writes batches (one or more concatenated v2 batches, as package
// batch builds them) to a partition with acks=all and returns the offset
// of their first record. The records are sent as one batch, compressed
// with the first batch's codec. With idempotence (the default) a retry
// after a lost response is deduplicated by the cluster. Appends to one
// partition run one at a time. If ctx ends first the append may still
// happen.
func (c *Client) Append(ctx context.Context, topic string, partition int32, batches []byte) (int64, error) {
	rb, n, err := toRecordBatch(batches)
	if err != nil {
		return 0, partitionErr("append to", topic, partition, err)
	}
	tp := broker.TopicPartition{Topic: topic, Partition: partition}
	slot := c.prod.slot(tp)
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	base, err := call(c, ctx, func() (int64, error) {
		defer func() { <-slot }()
		return c.append(ctx, tp, rb, n)
	})
	return base, partitionErr("append to", topic, partition, err)
}

func (c *Client) append(ctx context.Context, tp broker.TopicPartition, rb *sarama.RecordBatch, n int) (int64, error) {
	for fresh := false; ; fresh = true {
		if err := c.stamp(ctx, tp, rb); err != nil {
			return 0, err
		}
		base, err := c.produce(ctx, tp, rb)
		if err == nil {
			c.prod.advance(tp, rb, n)
			return base, nil
		}
		if rb.ProducerID < 0 {
			return 0, err
		}
		// Whether the batch was written is unknown, so its sequence cannot
		// be reused for other records: start over with a new producer id.
		c.prod.forget(rb.ProducerID)
		lost := errors.Is(err, broker.ErrOutOfOrderSequence) || errors.Is(err, broker.ErrUnknownProducer) || errors.Is(err, broker.ErrProducerFenced)
		if fresh || !lost {
			return 0, err
		}
		c.log.Info("kafka: producer state lost; retrying with a new producer id", "topic", tp.Topic, "partition", tp.Partition, "err", err)
	}
}

// produce sends one produce request to the partition's leader.
func (c *Client) produce(ctx context.Context, tp broker.TopicPartition, rb *sarama.RecordBatch) (int64, error) {
	var base int64
	err := c.onLeader(ctx, tp.Topic, tp.Partition, func(conn *sarama.Broker) error {
		req := &sarama.ProduceRequest{RequiredAcks: sarama.WaitForAll, Timeout: millis(c.cfg.RequestTimeout - time.Second), Version: 10}
		req.AddBatch(tp.Topic, tp.Partition, rb)
		resp, err := conn.Produce(req)
		if err != nil {
			return err
		}
		blk := resp.GetBlock(tp.Topic, tp.Partition)
		if blk == nil {
			return ErrIncompleteResponse
		}
		if err := codeError(blk.Err); err != nil {
			if blk.ErrorMessage != nil && *blk.ErrorMessage != "" {
				return fmt.Errorf("%w: %s", err, *blk.ErrorMessage)
			}
			return err
		}
		base = blk.Offset
		return nil
	})
	return base, err
}

// stamp sets the batch's producer id, epoch and first sequence, getting a
// producer id first if the client has none.
func (c *Client) stamp(ctx context.Context, tp broker.TopicPartition, rb *sarama.RecordBatch) error {
	if c.cfg.DisableIdempotence {
		return nil
	}
	if err := c.initProducer(ctx, tp); err != nil {
		return err
	}
	p := c.prod
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disabled || p.id < 0 {
		rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = -1, -1, -1
		return nil
	}
	s := p.seqs[tp]
	if s.id != p.id {
		s = sequence{id: p.id}
		p.seqs[tp] = s
	}
	rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = p.id, p.epoch, s.next
	return nil
}

// advance moves a partition's sequence past an appended batch; sequences
// wrap to 0 after the largest int32, as Kafka's do.
func (p *producer) advance(tp broker.TopicPartition, rb *sarama.RecordBatch, n int) {
	if rb.ProducerID < 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.seqs[tp]; s.id == rb.ProducerID {
		p.seqs[tp] = sequence{id: s.id, next: int32((int64(s.next) + int64(n)) & math.MaxInt32)}
	}
}

// forget drops producer id if it is still the client's, so the next append
// gets a new one.
func (p *producer) forget(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id == id {
		p.id = -1
	}
}

// initProducer gets a producer id (InitProducerId without a transactional
// id) from the partition's leader if the client has none. A cluster that
// refuses (authorization, an old version) turns idempotence off.
func (c *Client) initProducer(ctx context.Context, tp broker.TopicPartition) error {
	p := c.prod
	p.initMu.Lock()
	defer p.initMu.Unlock()
	p.mu.Lock()
	done := p.disabled || p.id >= 0
	p.mu.Unlock()
	if done {
		return nil
	}
	var resp *sarama.InitProducerIDResponse
	err := c.onLeader(ctx, tp.Topic, tp.Partition, func(conn *sarama.Broker) error {
		r, err := conn.InitProducerID(&sarama.InitProducerIDRequest{Version: 4, ProducerID: -1, ProducerEpoch: -1, TransactionTimeout: time.Minute})
		if err != nil {
			return err
		}
		resp = r
		return codeError(r.Err)
	})
	refused := errors.Is(err, sarama.ErrClusterAuthorizationFailed) || errors.Is(err, sarama.ErrUnsupportedVersion) ||
		errors.Is(err, sarama.ErrTransactionalIDAuthorizationFailed)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case refused:
		c.log.Warn("kafka: the cluster refused a producer id; appends are not idempotent", "err", err)
		p.disabled = true
		return nil
	case err != nil:
		return fmt.Errorf("init producer id: %w", err)
	}
	p.id, p.epoch = resp.ProducerID, resp.ProducerEpoch
	c.log.Debug("kafka: producer id", "id", p.id, "epoch", p.epoch)
	return nil
}
