package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// maxCascade bounds how many records one step (a piped record, a
// punctuation, a commit) may send to the topology's own input topics before
// the driver gives up: a topology that writes a topic it reads, with every
// record passing, would otherwise loop forever.
const maxCascade = 1_000_000

// DriverConfig configures a Driver.
type DriverConfig struct {
	// Partitions gives the partition count of input and output topics;
	// topics the topology names but this map does not have 1. Internal
	// topics take the counts the plan gives them and may not be listed.
	Partitions map[string]int32
	// Start is the wall clock's initial time (default: the Unix epoch, so
	// that runs are repeatable).
	Start time.Time
	// ManualCommit runs the commit cycle only when Commit is called (or a
	// store's cache overflows); by default it runs after every step, so
	// every table update reaches the outputs at once.
	ManualCommit bool
}

// ErrDriverStopped is returned by every Driver method after a record or a
// punctuation failed under the Fail policy, as a real app would have
// stopped there.
var ErrDriverStopped = errors.New("engine: driver stopped by an earlier error")

// ErrDriverClosed is returned by Driver methods after Close.
var ErrDriverClosed = errors.New("engine: driver closed")

// ErrNotInput reports a record piped to a topic the topology does not read.
var ErrNotInput = errors.New("engine: not an input topic")

// Driver runs a topology in the calling goroutine, without a broker: the
// engine behind package stream/streamtest. It uses the engine's own tasks,
// stores, caches, error policies and punctuations; only the transport
// differs. Piped records are processed at once; records a task sends are
// kept in memory per topic, and those sent to a topic the topology reads
// (repartition topics, or a user topic read back) are processed next, in
// the order they were sent. There are no background goroutines and no
// sleeps: the same calls give the same results.
//
// A Driver is not safe for concurrent use, except for reads of its engine's
// stores (Engine.Store), which the stores allow.
type Driver struct {
	e   *Engine
	cfg DriverConfig
	now time.Time

	tasks  []*task // plan order: sub-topology, then partition
	byID   map[topology.TaskID]*task
	reader map[string]int // input topic → sub-topology reading it

	logs  map[string][]topology.RawRecord // topic → records sent to it, in order
	next  map[tp]int64                    // next offset of each topic partition
	queue []topology.RawRecord            // sent to input topics, not processed yet

	err    error
	closed bool
	// cascade is maxCascade, lowered by tests.
	cascade int
}

// NewDriver lays the topology of e out on partition counts taken from cfg,
// builds every task with empty stores and returns a driver running them.
// e must be new (never run); the driver owns it from then on, and e's
// clock becomes the driver's. With on-disk stores (Config.InMemoryStores
// unset) the stores live under Config.StateDir as the app's would, and
// start as the app would with empty changelogs: stores backed by one are
// wiped.
func NewDriver(e *Engine, cfg DriverConfig) (*Driver, error) {
	for topic, n := range cfg.Partitions {
		if n <= 0 {
			return nil, fmt.Errorf("%w: topic %s: %d partitions", ErrConfig, topic, n)
		}
		if _, ok := e.topo.InternalTopics[topic]; ok {
			return nil, fmt.Errorf("%w: %s is an internal topic; its partition count comes from the topology", ErrConfig, topic)
		}
	}
	e.mu.Lock()
	running := e.running
	e.running = true
	e.mu.Unlock()
	if running {
		return nil, fmt.Errorf("engine: a driver needs an engine that has never run")
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Unix(0, 0).UTC()
	}
	d := &Driver{e: e, cfg: cfg, now: cfg.Start, byID: map[topology.TaskID]*task{}, reader: map[string]int{},
		logs: map[string][]topology.RawRecord{}, next: map[tp]int64{}, cascade: maxCascade}
	e.cfg.Now = func() time.Time { return d.now }

	p, _, err := layoutPlan(e.topo, func(topic string) (int32, error) { return d.configured(topic), nil })
	if err != nil {
		return nil, err
	}
	for _, st := range p.subs {
		for _, topic := range st.Topics {
			d.reader[topic] = st.ID
		}
	}
	for _, topic := range d.namedTopics(p) {
		n, ok := p.partitions[topic]
		if !ok {
			n = d.configured(topic)
		}
		e.parts.Store(topic, n)
	}
	e.mu.Lock()
	e.plan = p
	e.mu.Unlock()
	if err := d.openGlobals(); err != nil {
		return nil, err
	}
	if err := d.buildTasks(p); err != nil {
		d.closeTasks()
		return nil, err
	}
	return d, nil
}

// configured returns a non-internal topic's partition count from the
// config, 1 by default.
func (d *Driver) configured(topic string) int32 {
	if n, ok := d.cfg.Partitions[topic]; ok {
		return n
	}
	return 1
}

// namedTopics lists every topic the topology, the error policies or the
// config name, so that tasks asking their partition counts never reach the
// engine's client.
func (d *Driver) namedTopics(p *plan) []string {
	set := map[string]bool{}
	for topic := range p.partitions {
		set[topic] = true
	}
	for topic := range d.cfg.Partitions {
		set[topic] = true
	}
	for _, n := range d.e.topo.Nodes {
		for _, topic := range n.Topics {
			set[topic] = true
		}
	}
	for _, pol := range []Policy{d.e.cfg.OnDeserializeError, d.e.cfg.OnProcessingError} {
		if pol.Kind == DeadLetter {
			set[pol.Topic] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// buildTasks creates every task of the plan, sending through the driver.
func (d *Driver) buildTasks(p *plan) error {
	cache := newCacheShare(d.e.cfg.CacheMaxBytes, p)
	for _, id := range p.taskIDs() {
		t := d.e.makeTask(id, d)
		d.tasks = append(d.tasks, t)
		d.byID[id] = t
		d.e.mu.Lock()
		d.e.tasks[id] = t
		d.e.mu.Unlock()
		sub := p.subs[id.Subtopology]
		if !d.e.cfg.InMemoryStores && len(sub.Stores) > 0 {
			// No changelog to restore from: start as the app would on
			// empty changelogs, wiping changelogged local state.
			if err := storage.RemoveCheckpoint(t.checkpointPath()); err != nil {
				return fmt.Errorf("engine: task %s: %w", id, err)
			}
		}
		if _, err := t.openStores(sub, cache); err != nil {
			return err
		}
		if err := t.buildSources(sub); err != nil {
			return err
		}
	}
	return nil
}

// Now returns the driver's wall clock.
func (d *Driver) Now() time.Time { return d.now }

// Err returns the error that stopped the driver, if any.
func (d *Driver) Err() error { return d.err }

// Inputs returns the topics the topology reads, sorted.
func (d *Driver) Inputs() []string { return slices.Sorted(maps.Keys(d.reader)) }

// Output returns every record sent to topic so far, in the order sent,
// across its partitions. The records and their bytes must not be modified.
func (d *Driver) Output(topic string) []topology.RawRecord { return d.logs[topic] }

func (d *Driver) usable() error {
	if d.closed {
		return ErrDriverClosed
	}
	if d.err != nil {
		return fmt.Errorf("%w: %w", ErrDriverStopped, d.err)
	}
	return nil
}

// fail stops the driver with err, as a failing worker stops the app.
func (d *Driver) fail(err error) error {
	d.err = err
	d.queue = nil
	return err
}

// Pipe processes one record arriving on an input topic, on the partition
// Kafka's default partitioner picks for its key (0 when it has none), then
// every record that sends to the topology's own inputs, then (unless
// commits are manual) runs the commit cycle. It returns the error of a
// record that failed under the Fail policy, which stops the driver.
func (d *Driver) Pipe(topic string, key, value []byte, ts int64, headers []batch.RecordHeader) error {
	if err := d.usable(); err != nil {
		return err
	}
	if gs := d.globalFor(topic); gs != nil {
		return d.pipeGlobal(gs, topic, key, value, ts, headers)
	}
	sub, ok := d.reader[topic]
	if !ok {
		return fmt.Errorf("%w: the topology does not read %s (it reads %s)", ErrNotInput, topic, strings.Join(d.Inputs(), ", "))
	}
	n, err := d.e.partitions(topic)
	if err != nil {
		return err
	}
	p := int32(0)
	if key != nil {
		p = partition.ForKey(key, n)
	}
	r := topology.RawRecord{Topic: topic, Partition: p, Offset: d.nextOffset(topic, p), Timestamp: ts,
		Key: cloneBytes(key), Value: cloneBytes(value), Headers: cloneHeaders(headers)}
	if err := d.byID[topology.TaskID{Subtopology: sub, Partition: p}].process(&r); err != nil {
		return d.fail(err)
	}
	d.e.records.Add(1)
	return d.settle()
}

func (d *Driver) nextOffset(topic string, p int32) int64 {
	k := tp{topic, p}
	off := d.next[k]
	d.next[k] = off + 1
	return off
}

// send captures a record a task produced; it implements sender.
func (d *Driver) send(topic string, p int32, key, value []byte, ts int64, headers []batch.RecordHeader) error {
	n, err := d.e.partitions(topic)
	if err != nil {
		return err
	}
	switch {
	case p < 0 && key != nil:
		p = partition.ForKey(key, n)
	case p < 0:
		p = 0 // the producer's sticky partition for keyless records starts there
	case p >= n:
		return fmt.Errorf("engine: send to %s: partition %d out of range (the topic has %d)", topic, p, n)
	}
	r := topology.RawRecord{Topic: topic, Partition: p, Offset: d.nextOffset(topic, p), Timestamp: ts,
		Key: cloneBytes(key), Value: cloneBytes(value), Headers: cloneHeaders(headers)}
	d.logs[topic] = append(d.logs[topic], r)
	if gs := d.globalFor(topic); gs != nil {
		return d.updateGlobal(gs, &r)
	}
	if _, ok := d.reader[topic]; ok {
		d.queue = append(d.queue, r)
	}
	return nil
}

func cloneHeaders(hs []batch.RecordHeader) []batch.RecordHeader {
	if hs == nil {
		return nil
	}
	out := make([]batch.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = batch.RecordHeader{Key: h.Key, Value: cloneBytes(h.Value)}
	}
	return out
}

// settle processes what the last step sent to input topics and, unless
// commits are manual, runs the commit cycle until nothing is left: a cache
// flush can send to a repartition topic whose processing dirties another
// task's cache.
func (d *Driver) settle() error {
	if err := d.drain(); err != nil {
		return err
	}
	if d.cfg.ManualCommit {
		return nil
	}
	return d.commit()
}

// drain processes queued records in the order they were sent.
func (d *Driver) drain() error {
	for processed := 0; len(d.queue) > 0; processed++ {
		if processed == d.cascade {
			return d.fail(fmt.Errorf("engine: driver: one step sent more than %d records to the topology's own inputs; does a topic feed itself?", d.cascade))
		}
		r := d.queue[0]
		d.queue = d.queue[1:]
		t := d.byID[topology.TaskID{Subtopology: d.reader[r.Topic], Partition: r.Partition}]
		if err := t.process(&r); err != nil {
			return d.fail(err)
		}
		d.e.records.Add(1)
	}
	d.queue = nil
	return nil
}

// Commit runs the commit cycle: it flushes every store's cache (writing
// changelog records and forwarding table updates downstream) and
// processes what that sends to input topics, until no cache is dirty.
// There are no offsets to commit and no checkpoints to write.
func (d *Driver) Commit() error {
	if err := d.usable(); err != nil {
		return err
	}
	if err := d.drain(); err != nil {
		return err
	}
	return d.commit()
}

func (d *Driver) commit() error {
	for round := 0; ; round++ {
		if round == d.cascade {
			return d.fail(fmt.Errorf("engine: driver: caches still dirty after %d flushes; does a topic feed itself?", d.cascade))
		}
		flushed := false
		for _, t := range d.tasks {
			for _, s := range t.stores {
				if s.cached.DirtyLen() == 0 {
					continue
				}
				flushed = true
				// A downstream user function may panic during the flush.
				if err := callSafely(s.cached.FlushCache); err != nil {
					return d.fail(fmt.Errorf("engine: task %s: flush store %s: %w", t.id, s.name, err))
				}
			}
		}
		if err := d.drain(); err != nil {
			return err
		}
		if !flushed {
			d.e.commits.Add(1)
			return nil
		}
	}
}

// AdvanceWallClock moves the wall clock forward by dur as if time passed
// continuously: each wall-clock punctuation fires every time it comes due
// on the way, in order of due time (ties in task order, then in order of
// scheduling), with the clock set to its due time. After each task's
// punctuations the driver settles as after a piped record.
func (d *Driver) AdvanceWallClock(dur time.Duration) error {
	if err := d.usable(); err != nil {
		return err
	}
	if dur < 0 {
		return fmt.Errorf("engine: driver: the wall clock cannot go back (%v)", dur)
	}
	target := d.now.Add(dur)
	for {
		due, ok := d.nextWallClock()
		if !ok || due > target.UnixMilli() {
			break
		}
		if at := time.UnixMilli(due); at.After(d.now) {
			d.now = at
		}
		for _, t := range d.tasks {
			if err := t.punctuateWallClock(); err != nil {
				return d.fail(err)
			}
			if err := d.settle(); err != nil {
				return err
			}
		}
	}
	d.now = target
	return nil
}

// nextWallClock returns the earliest due time of a wall-clock punctuation.
func (d *Driver) nextWallClock() (int64, bool) {
	var due int64
	found := false
	for _, t := range d.tasks {
		for _, p := range t.puncts {
			if p.kind == topology.WallClock && (!found || p.next < due) {
				due, found = p.next, true
			}
		}
	}
	return due, found
}

// Close runs a last commit (unless the driver failed), then closes every
// task as the app does at shutdown. Records sent so far stay readable
// through Output.
func (d *Driver) Close() error {
	if d.closed {
		return nil
	}
	var errs []error
	if d.err == nil {
		errs = append(errs, d.Commit())
	}
	d.closed = true
	errs = append(errs, d.closeTasks())
	return errors.Join(errs...)
}

func (d *Driver) closeTasks() error {
	var errs []error
	for _, t := range d.tasks {
		errs = append(errs, t.close())
	}
	errs = append(errs, d.e.globals.close())
	return errors.Join(errs...)
}
