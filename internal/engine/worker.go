package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/topology"
)

// recordsPerRound bounds how many records one task processes before the
// worker looks at its other tasks, punctuations and the commit clock.
// Tasks hand records to each other through repartition topics, and the
// tasks writing one are kept within the drift of each other (align.go):
// small rounds interleave them finely, so the records a task writes are
// read while still in the cache and the writers advance in steps well
// under the drift. Nexmark q8 over 4M events: 250 against 1000 made the
// run 25-40% faster, with q0, q5 and q7 unchanged within the noise; 100
// was slower again (the round's fixed costs).
const recordsPerRound = 250

// worker is one processing goroutine (a Kafka Streams stream thread): it
// owns some tasks, their producer, and their commits.
type worker struct {
	e          *Engine
	ctx        context.Context
	tasks      []*task
	producer   *producer
	notify     chan struct{}
	nextCommit time.Time
	// ctl carries work the runtime runs on this goroutine between rounds:
	// adding a task, or parking for a rebalance (which hands w.tasks to
	// the runtime until it releases the worker).
	ctl chan func()
	// done is closed when run has returned.
	done chan struct{}
	// heldBack is set when a task of this round stopped at its alignment
	// limit (align.go): another worker's progress will release it, which
	// nothing signals, so the worker polls sooner.
	heldBack bool
}

// ProcessingError names the record whose processing failed.
type ProcessingError struct {
	Topic     string
	Partition int32
	Offset    int64
	Err       error
}

func (e *ProcessingError) Error() string {
	return fmt.Sprintf("processing %s-%d at offset %d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *ProcessingError) Unwrap() error { return e.Err }

// run processes until ctx ends or a record fails under the Fail policy,
// committing on the interval and once more at the end.
func (w *worker) run() error {
	w.nextCommit = w.e.cfg.Now().Add(w.e.cfg.CommitInterval)
	for {
		if w.ctx.Err() != nil {
			return w.commitUnlessFenced()
		}
		w.control()
		w.heldBack = false
		processed := 0
		for _, t := range w.tasks {
			n, err := w.processTask(t)
			processed += n
			if err != nil {
				return err
			}
			if err := t.punctuateWallClock(); err != nil {
				return err
			}
		}
		// A batch waits up to Linger for more records only while the
		// worker has records to add to it: an idle worker has none
		// coming, and its batches would only keep their readers waiting.
		linger := w.e.cfg.Linger
		if processed == 0 {
			linger = 0
		}
		if err := w.producer.sealLingering(linger); err != nil {
			return err
		}
		// When the group's generation has ended the runtime commits
		// (or finds the tasks lost) before rejoining.
		if !w.e.cfg.Now().Before(w.nextCommit) && !w.e.generationOver() {
			if err := w.commitUnlessFenced(); err != nil {
				return err
			}
		}
		if processed > 0 {
			w.e.records.Add(int64(processed))
		} else {
			idle := 10 * time.Millisecond
			if w.heldBack {
				idle = time.Millisecond
			}
			select {
			case <-w.notify:
			case fn := <-w.ctl:
				fn()
			case <-w.ctx.Done():
			case <-time.After(idle):
			}
		}
	}
}

// control runs the work the runtime queued for this worker.
func (w *worker) control() {
	for {
		select {
		case fn := <-w.ctl:
			fn()
		default:
			return
		}
	}
}

// commitUnlessFenced commits; a commit the group refused because this
// instance's generation is over is not the app's failure: the runtime
// learns of the rebalance from the group and deals with the tasks, and
// their records since the last commit are processed again (at least once).
func (w *worker) commitUnlessFenced() error {
	err := w.commit()
	if errors.Is(err, errFenced) {
		w.e.cfg.Logger.Warn("offset commit refused: the group's generation moved on", "err", err)
		return nil
	}
	return err
}

// processTask processes up to recordsPerRound buffered records of a task,
// always the one with the smallest timestamp among its inputs, so that
// joins and windows see inputs interleaved by event time. An input with
// nothing buffered but data waiting at the broker (or whose first fetch has
// not answered) holds the task back until its records arrive, as Kafka
// Streams does with max.task.idle.ms=0; inputs that are caught up do not.
func (w *worker) processTask(t *task) (int, error) {
	t.roundNow = w.e.cfg.Now()
	defer func() {
		t.roundNow = time.Time{}
		for _, in := range t.inputs {
			in.countConsumed()
		}
	}()
	if t.align == nil {
		return w.processRound(t, noHead)
	}
	n, err := w.processRound(t, t.align.limit(t))
	t.head.Store(t.nextHead())
	return n, err
}

// processRound processes up to recordsPerRound records of t with
// timestamps up to limit, in timestamp order across its inputs.
func (w *worker) processRound(t *task, limit int64) (int, error) {
	n := 0
	for n < recordsPerRound {
		var pick *input
		for _, in := range t.inputs {
			ok, err := in.peek()
			if err != nil {
				return n, &ProcessingError{Topic: in.topic, Partition: in.partition, Offset: in.next, Err: fmt.Errorf("undecodable batch: %w", err)}
			}
			if !ok && len(t.inputs) > 1 && !in.drained() {
				return n, nil // wait for this input's records
			}
			if ok && (pick == nil || in.cur.Timestamp < pick.cur.Timestamp) {
				pick = in
			}
		}
		if pick == nil {
			return n, nil
		}
		if pick.cur.Timestamp > limit {
			w.heldBack = true
			return n, nil
		}
		if err := t.processWith(&pick.cur, pick.source); err != nil {
			return n, err
		}
		pick.has = false
		pick.next = pick.cur.Offset + 1
		pick.uncounted++
		n++
	}
	return n, nil
}

// process runs one input record through the task, then fires the
// stream-time punctuations it made due, applying the error policies to
// what fails: the worker and the Driver share it.
func (t *task) process(r *topology.RawRecord) error {
	return t.processWith(r, t.sources[r.Topic])
}

// processWith is process with the record's source already looked up.
func (t *task) processWith(r *topology.RawRecord, source topology.SourceFunc) error {
	t.current = r
	defer func() { t.current = nil }()
	if r.Timestamp > t.streamTime {
		t.streamTime = r.Timestamp
	}
	err := callSafely(func() error { return source(r) })
	if err == nil {
		err = t.punctuateStreamTime()
	}
	if err == nil {
		return nil
	}
	var de *topology.DeserializeError
	policy := t.e.cfg.OnProcessingError
	kind := "processing"
	if errors.As(err, &de) {
		policy, kind = t.e.cfg.OnDeserializeError, "deserialization"
	}
	t.e.errorCount.Add(1)
	perr := &ProcessingError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err}
	switch policy.Kind {
	case LogAndContinue:
		t.e.cfg.Logger.Warn("skipping record", "kind", kind, "task", t.id, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	case DeadLetter:
		headers := append(append([]batch.RecordHeader(nil), r.Headers...),
			batch.RecordHeader{Key: "eddy.error.kind", Value: []byte(kind)},
			batch.RecordHeader{Key: "eddy.error", Value: []byte(err.Error())},
			batch.RecordHeader{Key: "eddy.topic", Value: []byte(r.Topic)},
			batch.RecordHeader{Key: "eddy.partition", Value: fmt.Appendf(nil, "%d", r.Partition)},
			batch.RecordHeader{Key: "eddy.offset", Value: fmt.Appendf(nil, "%d", r.Offset)},
			batch.RecordHeader{Key: "eddy.task", Value: []byte(t.id.String())})
		if serr := t.out.send(policy.Topic, -1, cloneBytes(r.Key), cloneBytes(r.Value), r.Timestamp, headers); serr != nil {
			return fmt.Errorf("engine: dead-letter %v: %w", perr, serr)
		}
		return nil
	}
	return fmt.Errorf("engine: task %s: %s error (policy: fail): %w", t.id, kind, perr)
}

// cloneBytes copies b, keeping nil and empty apart (an empty value is not
// a tombstone).
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// callSafely turns a panic in user code into an error carrying the stack.
func callSafely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

// commit runs the commit cycle for the worker's tasks: flush store caches
// (changelog records and downstream updates) → flush the producer → commit
// input offsets → make stores durable and write checkpoints.
func (w *worker) commit() error {
	w.nextCommit = w.e.cfg.Now().Add(w.e.cfg.CommitInterval)
	// In a group, first make sure this instance is still a member: once
	// the group has gone on without it, others may run its tasks, and
	// flushing the caches would write to their changelogs.
	if g := w.e.group; g != nil && g.fenced(context.Background()) {
		return fmt.Errorf("%w: the coordinator no longer counts this instance in the group; its tasks' state is not flushed", errFenced)
	}
	for _, t := range w.tasks {
		for _, s := range t.stores {
			// Table operators run inside the flush (they forward cached
			// updates): a panic there must stop the app with an error.
			if err := callSafely(s.cached.FlushCache); err != nil {
				return fmt.Errorf("engine: task %s: flush store %s: %w", t.id, s.name, err)
			}
		}
	}
	if err := w.producer.flush(); err != nil {
		return err
	}
	var offsets []broker.TopicPartitionOffset
	var moved []*input
	for _, t := range w.tasks {
		for _, in := range t.inputs {
			if in.next != in.committed {
				offsets = append(offsets, broker.TopicPartitionOffset{TopicPartition: broker.TopicPartition{Topic: in.topic, Partition: in.partition}, Offset: in.next})
				moved = append(moved, in)
			}
		}
	}
	if len(offsets) > 0 {
		// Not w.ctx: the final commit runs after it is cancelled.
		if err := awaitWritten(context.Background(), w.e.cfg.Client, moved); err != nil {
			return err
		}
		if err := w.e.commitOffsets(context.Background(), offsets); err != nil {
			return fmt.Errorf("engine: commit offsets: %w", err)
		}
		for _, in := range moved {
			in.committed = in.next
		}
	}
	for _, t := range w.tasks {
		if t.checkpointed {
			continue
		}
		for _, s := range t.stores {
			if s.changelog != "" {
				// The producer may remember appends from before the task
				// last moved here; its restore is past those.
				if last := w.producer.lastOffset(s.changelog, t.id.Partition); last >= s.checkpoint {
					s.checkpoint = last + 1
				}
			}
		}
		if err := t.writeCheckpoint(); err != nil {
			return err
		}
	}
	w.e.commits.Add(1)
	return nil
}

// punctuateStreamTime fires stream-time punctuations that stream time
// has passed.
func (t *task) punctuateStreamTime() error {
	for _, p := range t.puncts {
		if p.kind != topology.StreamTime {
			continue
		}
		if p.next < 0 {
			p.next = t.streamTime + p.interval.Milliseconds()
			continue
		}
		if t.streamTime >= p.next {
			if err := callSafely(func() error { return p.fn(t.streamTime) }); err != nil {
				return err
			}
			for p.next <= t.streamTime {
				p.next += p.interval.Milliseconds()
			}
		}
	}
	return nil
}

// punctuateWallClock fires wall-clock punctuations that are due.
func (t *task) punctuateWallClock() error {
	now := t.e.cfg.Now().UnixMilli()
	for _, p := range t.puncts {
		if p.kind != topology.WallClock || now < p.next {
			continue
		}
		if err := callSafely(func() error { return p.fn(now) }); err != nil {
			return fmt.Errorf("engine: task %s: wall-clock punctuation: %w", t.id, err)
		}
		for p.next <= now {
			p.next += p.interval.Milliseconds()
		}
	}
	return nil
}
