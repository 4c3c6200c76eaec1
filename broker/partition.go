package broker

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// Partition is one partition of a topic: its log plus the producer
// sequence state that makes idempotent produce exactly-once.
type Partition struct {
	Topic string
	Index int32

	log *log.Log
	// compacted is set for cleanup.policy containing compact: records
	// must then have keys.
	compacted atomic.Bool
	// compactedUpTo is the end offset at the last compaction pass.
	compactedUpTo atomic.Int64
	// syncOnAck is set when the log fsyncs on acknowledgement; under the
	// relaxed policies an acks=all produce does not wait for an fsync.
	syncOnAck bool

	// mu orders sequence checks with the writes they admit; the fsync that
	// follows a write happens outside it, so concurrent producers still
	// share fsyncs.
	mu        sync.Mutex
	producers map[int64]*producerState
}

func openPartition(fs vfs.FS, dir, topic string, index int32, cfg log.Config) (*Partition, error) {
	l, err := log.Open(fs, dir, cfg)
	if err != nil {
		return nil, fmt.Errorf("broker: open partition %s-%d: %w", topic, index, err)
	}
	p := &Partition{Topic: topic, Index: index, log: l, producers: map[int64]*producerState{}, syncOnAck: cfg.Sync == log.SyncOnAck}
	p.compacted.Store(cfg.Compact)
	p.compactedUpTo.Store(-1)
	if err := p.restoreProducers(); err != nil {
		l.Close()
		return nil, err
	}
	return p, nil
}

func (p *Partition) setConfig(cfg log.Config) error {
	p.compacted.Store(cfg.Compact)
	return p.log.SetConfig(cfg)
}

// Log returns the partition's log, for reads and long polls.
func (p *Partition) Log() *log.Log { return p.log }

// ProduceResult is where a produce landed.
type ProduceResult struct {
	BaseOffset     int64
	LogStartOffset int64
	// Duplicate is set when an idempotent producer retried a batch that
	// was already written: BaseOffset is where it was written the first time.
	Duplicate bool
}

// Produce appends one or more concatenated batches. With durable set (acks
// = all) it returns once they are fsynced (under the default sync policy).
// Batches from an idempotent producer are checked against its sequence
// numbers: a retry of a batch already written returns the original offset
// without writing it again; a gap is refused with ErrOutOfOrderSequence.
// The batches' base offsets and partition leader epochs are stamped in place.
func (p *Partition) Produce(ctx context.Context, batches []byte, durable bool) (ProduceResult, error) {
	res, end, err := p.Write(batches)
	if err != nil {
		return ProduceResult{}, err
	}
	if durable {
		if err := p.AwaitDurable(end); err != nil {
			return ProduceResult{}, err
		}
	}
	return res, nil
}

// Write is the first half of Produce: it checks and writes the batches and
// returns the offset durability must reach (AwaitDurable) before an acks=all
// produce may be acknowledged. Callers that must apply produces in a given
// order (one connection's pipelined requests) call Write in that order and
// may then wait for the fsyncs concurrently.
func (p *Partition) Write(batches []byte) (ProduceResult, int64, error) {
	var hdrs []batch.Header
	for rest := batches; len(rest) > 0; {
		b, r, err := batch.Next(rest)
		if err != nil {
			return ProduceResult{}, 0, fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
		}
		h, err := batch.ParseHeader(b)
		if err != nil {
			return ProduceResult{}, 0, fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
		}
		if h.Transactional() || h.Control() {
			return ProduceResult{}, 0, ErrTransactions
		}
		if p.compacted.Load() {
			if err := requireKeys(b); err != nil {
				return ProduceResult{}, 0, err
			}
		}
		batch.SetPartitionLeaderEpoch(b, 0)
		hdrs = append(hdrs, h)
		rest = r
	}
	if len(hdrs) == 0 {
		return ProduceResult{}, 0, fmt.Errorf("%w: no batches", log.ErrInvalidBatch)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writeLocked(batches, hdrs)
}

// AwaitDurable returns once the partition's data below end is fsynced
// (immediately under the relaxed sync policies).
func (p *Partition) AwaitDurable(end int64) error {
	if !p.syncOnAck {
		return nil
	}
	return p.log.AwaitDurable(end)
}

// writeLocked checks sequences and writes; it returns the offset durability
// must reach before the produce may be acknowledged. Called with p.mu held.
func (p *Partition) writeLocked(batches []byte, hdrs []batch.Header) (ProduceResult, int64, error) {
	if len(hdrs) == 1 && hdrs[0].ProducerID >= 0 {
		h := hdrs[0]
		dup, err := p.checkSequence(h)
		if err != nil {
			return ProduceResult{}, 0, err
		}
		if dup != nil {
			start, _, _ := p.log.Offsets()
			return ProduceResult{BaseOffset: dup.base, LogStartOffset: start, Duplicate: true}, dup.last + 1, nil
		}
	} else {
		for _, h := range hdrs {
			if h.ProducerID >= 0 {
				// Kafka clients send one batch per partition; a request
				// mixing several idempotent batches is not one of theirs.
				return ProduceResult{}, 0, fmt.Errorf("%w: %d idempotent batches in one partition's produce", ErrInvalidRecord, len(hdrs))
			}
		}
	}
	res, err := p.log.Write(batches)
	if err != nil {
		return ProduceResult{}, 0, err
	}
	if h := hdrs[0]; h.ProducerID >= 0 {
		p.recordSequence(h, res.BaseOffset, res.LastOffset)
	}
	return ProduceResult{BaseOffset: res.BaseOffset, LogStartOffset: res.LogStartOffset}, res.LastOffset + 1, nil
}

// requireKeys refuses a batch with a keyless record, which a compacted
// topic cannot keep (Kafka's INVALID_RECORD).
func requireKeys(b []byte) error {
	it, err := batch.NewIterator(b)
	if err != nil {
		return fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
	}
	for i := 0; it.Next(); i++ {
		if it.Record().Key == nil {
			return fmt.Errorf("%w: record %d has no key, and the topic is compacted", ErrInvalidRecord, i)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
	}
	return nil
}

// Read returns stored batches from offset; see log.Log.Read.
func (p *Partition) Read(offset int64, maxBytes int) (log.ReadResult, error) {
	return p.log.Read(offset, maxBytes)
}

// Offsets returns the log start offset, high watermark and log end offset.
func (p *Partition) Offsets() (start, highWatermark, end int64) { return p.log.Offsets() }

// Earliest and Latest are ListOffsets' special timestamps.
const (
	Latest       = -1
	Earliest     = -2
	MaxTimestamp = -3
)

// ListOffset answers ListOffsets for one partition: the earliest offset, the
// latest (the high watermark), or the first offset at or after a timestamp
// (-1 with timestamp -1 when there is none, as Kafka answers).
func (p *Partition) ListOffset(timestamp int64) (offset, ts int64, err error) {
	start, hw, _ := p.log.Offsets()
	switch timestamp {
	case Earliest:
		return start, -1, nil
	case Latest:
		return hw, -1, nil
	}
	if timestamp < 0 && timestamp != MaxTimestamp {
		return 0, 0, fmt.Errorf("%w: timestamp %d", ErrInvalidRecord, timestamp)
	}
	if timestamp == MaxTimestamp {
		return p.maxTimestampOffset()
	}
	off, t, ok, err := p.log.OffsetForTimestamp(timestamp)
	if err != nil {
		return 0, 0, err
	}
	if !ok {
		return -1, -1, nil
	}
	return off, t, nil
}

// maxTimestampOffset returns the offset and timestamp of the record with
// the largest timestamp (the first of them), as ListOffsets' -3 does
// (KIP-734): the batch headers find the batch, its records the offset.
func (p *Partition) maxTimestampOffset() (int64, int64, error) {
	base, bestTs := int64(-1), int64(-1)
	err := p.log.ScanHeaders(func(h batch.Header) error {
		if h.MaxTimestamp > bestTs {
			base, bestTs = h.BaseOffset, h.MaxTimestamp
		}
		return nil
	})
	if err != nil || base < 0 {
		return -1, -1, err
	}
	data, _, err := p.log.ReadBatches(base, 1, nil)
	if err != nil {
		return -1, -1, err
	}
	one, _, err := batch.Next(data)
	if err != nil {
		return -1, -1, err
	}
	it, err := batch.NewIterator(one)
	if err != nil {
		return -1, -1, err
	}
	for it.Next() {
		if r := it.Record(); r.Timestamp == bestTs {
			return r.Offset, bestTs, nil
		}
	}
	if err := it.Err(); err != nil {
		return -1, -1, err
	}
	h := it.Header()
	return h.LastOffset(), bestTs, nil
}

func (p *Partition) needsCompaction() bool {
	if !p.compacted.Load() {
		return false
	}
	_, _, end := p.log.Offsets()
	if p.compactedUpTo.Load() == end {
		return false
	}
	p.compactedUpTo.Store(end)
	return true
}
