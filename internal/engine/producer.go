package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
)

// maxBatchBytes closes a batch once its records reach this size; appends of
// full batches then overlap with processing.
const maxBatchBytes = 256 << 10

// producer buffers a worker's output records into one batch per topic
// partition and appends full batches in the background, one append at a
// time per partition so offsets keep the order records were sent in.
type producer struct {
	ctx    context.Context
	client broker.Client
	parts  func(topic string) (int32, error)
	now    func() time.Time

	mu      sync.Mutex
	open    map[tp]*pendingBatch
	writers map[tp]*partitionWriter
	err     error // first append failure
	wg      sync.WaitGroup
	sticky  map[string]int32 // keyless records: one partition per topic per batch

	// A batch to a repartition topic spans at most maxSpan ms of event
	// time (negative: unbounded), a quarter of Config.MaxTaskDrift. Each partition of such a topic
	// interleaves the batches of every task writing it, so the span bounds
	// how far out of order a downstream task sees them (see align.go).
	repartition map[string]bool
	maxSpan     int64

	queued *byteBudget // bytes sealed and not yet appended
	// free returns appended batches' buffers for the next batches to be
	// built in (Append keeps no reference), sparing an allocation, and its
	// zeroing, per batch. It is the producer's, not a partition's: one
	// append takes every batch queued for its partition, and a short
	// list per partition dropped most of them.
	free chan []byte
	// deferred is the client's, if its appends can return before their
	// fsync: appends then do not wait, and flush awaits durability.
	deferred broker.DeferredAppender
	failed   atomic.Bool // err is set

	// Only the worker owning the producer reads or writes these: send
	// finds a record's open batch here without a lock or a hash of the
	// topic's name when it is the same topic as last time.
	topics    map[string]*topicState
	lastTopic *topicState
}

type tp struct {
	topic     string
	partition int32
}

type pendingBatch struct {
	b     *batch.Builder
	bytes int
	// opened is when the batch's first record was added (the worker's
	// clock, Unix ms).
	opened int64
	// minTS and maxTS are the batch's record timestamps' range, which may
	// not exceed maxSpan (noHead: unbounded).
	minTS, maxTS, maxSpan int64
}

// partitionWriter appends one partition's batches in order.
type partitionWriter struct {
	queue chan []byte
	// last is the offset of the last record appended, -1 before any.
	last int64
	// unsynced is set when an append since the last flush did not wait
	// for durability (broker.DeferredAppender): flush awaits it.
	unsynced bool
	// queuedMin holds, for a repartition topic, the earliest timestamp of
	// each queued batch, in queue order (under producer.mu): see floor.
	queuedMin []int64
}

// Sealed batches wait for their append in a queue per partition, up to
// writerQueue batches there and maxQueuedBytes in all the producer's queues
// (Kafka's buffer.memory default). A deep queue matters when batches are
// small (repartition batches are short in event time): the batches queued
// during one append's fsync all go in the next append.
const (
	// maxAppendBytes bounds one coalesced append: a Kafka client sends it
	// as one record batch, which must stay under the broker's
	// message.max.bytes (1 MiB by default).
	maxAppendBytes = 768 << 10
	writerQueue    = 64
	maxQueuedBytes = 32 << 20
	// freeBuffers bounds the buffers a producer keeps for reuse: at most
	// 8 MiB of full batches, like the pool behind Kafka's buffer.memory.
	freeBuffers = 32
)

func newProducer(ctx context.Context, client broker.Client, parts func(string) (int32, error), now func() time.Time,
	repartition map[string]bool, maxSpan time.Duration) *producer {
	deferred, _ := client.(broker.DeferredAppender)
	p := &producer{ctx: ctx, client: client, deferred: deferred, parts: parts, now: now, open: map[tp]*pendingBatch{}, writers: map[tp]*partitionWriter{},
		sticky: map[string]int32{}, repartition: repartition, maxSpan: -1, queued: newByteBudget(maxQueuedBytes), free: make(chan []byte, freeBuffers), topics: map[string]*topicState{}}
	if maxSpan >= 0 {
		// A quarter of the drift: records a task has processed but not
		// yet appended count towards the skew downstream too.
		p.maxSpan = maxSpan.Milliseconds() / 4
	}
	return p
}

// send adds a record; partition -1 picks Kafka's default partition for the
// key (sticky per batch for keyless records).
func (p *producer) send(topic string, partition int32, key, value []byte, ts int64, headers []batch.RecordHeader) error {
	if p.failed.Load() {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	}
	t := p.topic(topic)
	if partition < 0 {
		if t.parts == 0 {
			n, err := p.parts(topic)
			if err != nil {
				return err
			}
			t.parts = n
		}
		if key != nil {
			partition = partitionForKey(key, t.parts)
		} else {
			partition = p.sticky[topic] % t.parts
		}
	}
	k := tp{topic, partition}
	pb := t.batch(partition)
	if pb == nil {
		pb = &pendingBatch{b: batch.NewBuilder(batch.BuilderOptions{}), maxSpan: t.maxSpan}
		t.batches[partition] = pb
		p.mu.Lock()
		p.open[k] = pb
		p.mu.Unlock()
	}
	if pb.b.Len() > 0 && max(pb.maxTS, ts)-min(pb.minTS, ts) > pb.maxSpan {
		if err := p.seal(k); err != nil {
			return err
		}
	}
	if pb.b.Len() == 0 {
		pb.opened = p.now().UnixMilli()
		pb.minTS, pb.maxTS = ts, ts
	}
	pb.minTS, pb.maxTS = min(pb.minTS, ts), max(pb.maxTS, ts)
	pb.b.Add(batch.Record{Key: key, Value: value, Timestamp: ts, Headers: headers})
	pb.bytes += len(key) + len(value) + 16
	full := pb.bytes >= maxBatchBytes
	if full {
		if key == nil {
			p.sticky[topic]++
		}
		return p.seal(k)
	}
	return nil
}

func partitionForKey(key []byte, n int32) int32 { return partition.ForKey(key, n) }

// seal encodes a partition's open batch and queues it for appending, or
// appends it at once (appendsInline).
func (p *producer) seal(k tp) error {
	// The batch stays in open: its builder hands the encoded batch over
	// and takes a recycled buffer for the next one (Take). Only the
	// worker that owns the producer sends and seals; mu guards the maps
	// against the append goroutines.
	p.mu.Lock()
	pb := p.open[k]
	w := p.writers[k]
	if w == nil {
		w = &partitionWriter{queue: make(chan []byte, writerQueue), last: -1}
		p.writers[k] = w
		if !p.appendsInline(pb) {
			go p.run(k, w)
		}
	}
	p.mu.Unlock()
	if pb == nil || pb.b.Len() == 0 {
		return nil
	}
	var buf []byte
	select {
	case buf = <-p.free:
	default:
	}
	// The batch leaves in the builder's buffer, and the builder keeps
	// the free one: its records are not copied again.
	data, err := pb.b.Take(buf)
	pb.bytes = 0
	if err != nil {
		return fmt.Errorf("engine: encode batch for %s-%d: %w", k.topic, k.partition, err)
	}
	if p.appendsInline(pb) {
		return p.appendNow(k, w, data)
	}
	p.queued.acquire(len(data))
	aligned := pb.maxSpan != noHead
	if aligned {
		p.mu.Lock()
		w.queuedMin = append(w.queuedMin, pb.minTS)
		p.mu.Unlock()
	}
	p.wg.Add(1)
	select {
	case w.queue <- data:
		return nil
	case <-p.ctx.Done():
		if aligned {
			p.mu.Lock()
			w.queuedMin = w.queuedMin[:len(w.queuedMin)-1]
			p.mu.Unlock()
		}
		p.queued.release(len(data))
		p.wg.Done()
		return p.ctx.Err()
	}
}

// appendsInline reports whether a partition's batches are appended by the
// worker as it seals them rather than by a writer goroutine: those of a
// repartition topic whose writers are aligned (Config.MaxTaskDrift not
// negative) when appends return before their fsync
// (broker.DeferredAppender). Other workers' tasks are held back until the
// batches sealed for a repartition topic are appended (floor), and a writer
// goroutine readied by a busy worker may wait milliseconds for a core;
// without the fsync an append is a write to the log, cheaper than that
// wait.
func (p *producer) appendsInline(pb *pendingBatch) bool {
	return p.deferred != nil && pb != nil && pb.maxSpan != noHead
}

// appendNow appends a sealed batch at once (see appendsInline). A failure
// fails the producer as a writer goroutine's would.
func (p *producer) appendNow(k tp, w *partitionWriter, data []byte) error {
	base, err := p.deferred.AppendNoWait(p.ctx, k.topic, k.partition, data)
	n := int64(countRecords(data))
	p.recycle(data)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.appended(k, w, base, n, err)
	if err != nil {
		return p.err
	}
	return nil
}

// appended records the outcome of an append of n records at base: the
// partition's last offset, or the producer's first failure. Called with
// mu held.
func (p *producer) appended(k tp, w *partitionWriter, base, n int64, err error) {
	if err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("engine: append to %s-%d: %w", k.topic, k.partition, err)
			p.failed.Store(true)
		}
		return
	}
	w.last = base + n - 1
	w.unsynced = p.deferred != nil
}

// recycle hands an appended batch's buffer back for a later batch to be
// built in, if the producer keeps fewer than freeBuffers.
func (p *producer) recycle(b []byte) {
	select {
	case p.free <- b:
	default:
	}
}

// floor is the earliest timestamp of the records this producer has sealed
// for repartition topics and not yet appended (noHead if none). Another
// worker's tasks must not run ahead of it (align.go): those records reach
// the repartition topic only once appended.
func (p *producer) floor() int64 {
	low := int64(noHead)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.writers {
		for _, ts := range w.queuedMin {
			low = min(low, ts)
		}
	}
	return low
}

func (p *producer) run(k tp, w *partitionWriter) {
	var joined, carry []byte
	taken := make([][]byte, 0, writerQueue)
	for {
		first := carry
		carry = nil
		if first == nil {
			var ok bool
			if first, ok = <-w.queue; !ok {
				return
			}
		}
		// Batches queued while the last append waited for its fsync go
		// in one append (one fsync for all of them), up to maxAppendBytes.
		taken = append(taken[:0], first)
		size, n := len(first), int64(countRecords(first))
	more:
		for size < maxAppendBytes {
			select {
			case next, ok := <-w.queue:
				if !ok {
					break more // the next receive returns
				}
				if size+len(next) > maxAppendBytes {
					carry = next
					break more
				}
				taken = append(taken, next)
				size, n = size+len(next), n+int64(countRecords(next))
			default:
				break more
			}
		}
		data := first
		if len(taken) > 1 {
			joined = joined[:0]
			for _, b := range taken {
				joined = append(joined, b...)
			}
			data = joined
		}
		queued := len(taken)
		var base int64
		var err error
		if p.deferred != nil {
			base, err = p.deferred.AppendNoWait(p.ctx, k.topic, k.partition, data)
		} else {
			base, err = p.client.Append(p.ctx, k.topic, k.partition, data)
		}
		for _, b := range taken {
			p.queued.release(len(b))
			p.recycle(b)
		}
		p.mu.Lock()
		p.appended(k, w, base, n, err)
		if len(w.queuedMin) > 0 {
			w.queuedMin = w.queuedMin[min(queued, len(w.queuedMin)):]
		}
		p.mu.Unlock()
		p.wg.Add(-queued)
	}
}

func countRecords(data []byte) int {
	h, err := batch.ParseHeader(data)
	if err != nil {
		return 0
	}
	return int(h.RecordCount)
}

// sealLingering seals the batches that have been open for linger or more.
func (p *producer) sealLingering(linger time.Duration) error {
	cutoff := p.now().Add(-linger).UnixMilli()
	p.mu.Lock()
	var due []tp
	for k, pb := range p.open {
		if pb.b.Len() > 0 && pb.opened <= cutoff {
			due = append(due, k)
		}
	}
	p.mu.Unlock()
	var errs []error
	for _, k := range due {
		errs = append(errs, p.seal(k))
	}
	return errors.Join(errs...)
}

// flush seals every open batch and waits until everything sent so far is
// appended (durably, under acks=all). It returns the first append error.
func (p *producer) flush() error {
	p.mu.Lock()
	keys := make([]tp, 0, len(p.open))
	for k := range p.open {
		keys = append(keys, k)
	}
	p.mu.Unlock()
	var errs []error
	for _, k := range keys {
		errs = append(errs, p.seal(k))
	}
	p.wg.Wait()
	p.mu.Lock()
	errs = append(errs, p.err)
	var unsynced []tp
	for k, w := range p.writers {
		if w.unsynced {
			unsynced = append(unsynced, k)
		}
	}
	p.mu.Unlock()
	// Nothing is being appended now (only this worker seals), so every
	// partition written since the last flush is durable after this.
	for _, k := range unsynced {
		p.mu.Lock()
		w := p.writers[k]
		end := w.last + 1
		p.mu.Unlock()
		if err := p.deferred.AwaitDurable(p.ctx, k.topic, k.partition, end); err != nil {
			errs = append(errs, fmt.Errorf("engine: %s-%d durable up to %d: %w", k.topic, k.partition, end, err))
			continue
		}
		p.mu.Lock()
		w.unsynced = false
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// lastOffset returns the offset of the last record appended to a topic
// partition by this producer, or -1.
func (p *producer) lastOffset(topic string, partition int32) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.writers[tp{topic, partition}]; w != nil {
		return w.last
	}
	return -1
}

// close stops the writers after a flush.
func (p *producer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, w := range p.writers {
		close(w.queue)
		delete(p.writers, k)
	}
}
