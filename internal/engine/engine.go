package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// Engine runs one topology in this process. With a client that supports
// group membership (broker.GroupCapable) it runs the tasks the
// application's consumer group assigns it, alongside other instances;
// otherwise it runs every task.
type Engine struct {
	cfg  Config
	topo *topology.Topology

	mu    sync.RWMutex
	plan  *plan
	tasks map[topology.TaskID]*task
	// standbys mirrors the runtime's standby tasks for StoreInfo.
	standbys map[topology.TaskID]*standbyTask
	running  bool
	parts    sync.Map // topic → int32

	commits    atomic.Int64
	errorCount atomic.Int64
	records    atomic.Int64 // added once per worker loop, not per record
	globals    *globals     // the global stores, once bootstrapped; nil if none
	counters   sync.Map     // name → *atomic.Int64, see Counter
	ready      chan struct{}

	// group is this instance's group membership, set (under mu) before
	// the workers start when the client is broker.GroupCapable.
	group *membership
}

// New checks the configuration; Run does the work.
func New(topo *topology.Topology, cfg Config) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, topo: topo, tasks: map[topology.TaskID]*task{}, standbys: map[topology.TaskID]*standbyTask{}, ready: make(chan struct{})}, nil
}

// Ready is closed once every task is restored and processing has begun.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Run plans the topology, creates internal topics, restores tasks, and
// processes until ctx ends (then commits and returns nil) or a record fails
// under the Fail policy (then returns that error, naming the record).
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return fmt.Errorf("engine: already running")
	}
	e.running = true
	e.mu.Unlock()

	p, err := makePlan(ctx, e.topo, e.cfg.Client)
	if err != nil {
		return err
	}
	for _, pol := range []Policy{e.cfg.OnDeserializeError, e.cfg.OnProcessingError} {
		if pol.Kind == DeadLetter {
			if err := e.cfg.Client.CreateTopics(ctx, broker.TopicSpec{Name: pol.Topic, Partitions: -1, ReplicationFactor: -1}); err != nil {
				return fmt.Errorf("engine: create dead-letter topic %s: %w", pol.Topic, err)
			}
		}
	}
	e.mu.Lock()
	e.plan = p
	e.mu.Unlock()
	g, err := e.startGlobals(ctx)
	if err != nil {
		return err
	}

	r := e.newRuntime(ctx)
	waitGlobals := g.start(r.ctx, r.cancel)
	if gc, ok := e.cfg.Client.(broker.GroupCapable); ok {
		m, merr := e.newMembership(gc)
		if merr != nil {
			err = errors.Join(merr, r.shutdown())
		} else {
			e.mu.Lock()
			e.group = m
			e.mu.Unlock()
			err = r.runGroup(m)
		}
	} else {
		err = r.runAll()
	}
	return errors.Join(err, waitGlobals(), g.close())
}

// newTask builds a task on worker w, restoring its stores from their
// changelogs (within ctx) and finding where its inputs resume.
func (e *Engine) newTask(ctx context.Context, id topology.TaskID, w *worker, cache cacheShare) (*task, error) {
	sub := e.plan.subs[id.Subtopology]
	t := e.makeTask(id, w.producer)
	t.w = w
	cp, err := t.openStores(sub, cache)
	if err == nil {
		err = t.restore(ctx, cp)
	}
	if err == nil {
		err = e.startTask(ctx, t)
	}
	if err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// startTask builds a restored task's processors and positions its inputs
// at the group's committed offsets (the earliest where none is).
func (e *Engine) startTask(ctx context.Context, t *task) error {
	sub := e.plan.subs[t.id.Subtopology]
	if err := t.buildSources(sub); err != nil {
		return err
	}
	topics := append([]string(nil), sub.Topics...)
	sort.Strings(topics)
	var tps []broker.TopicPartition
	for _, topic := range topics {
		tps = append(tps, broker.TopicPartition{Topic: topic, Partition: t.id.Partition})
	}
	committed, err := e.cfg.Client.CommittedOffsets(ctx, e.cfg.AppID, tps)
	if err != nil {
		return fmt.Errorf("engine: task %s: committed offsets: %w", t.id, err)
	}
	for _, c := range committed {
		start := c.Offset
		if start < 0 {
			if start, err = e.cfg.Client.ListOffset(ctx, c.Topic, c.Partition, broker.Earliest); err != nil {
				return fmt.Errorf("engine: task %s: earliest offset of %s-%d: %w", t.id, c.Topic, c.Partition, err)
			}
		}
		in := newInput(c.Topic, c.Partition, start, e.readsWritten(c.Topic), e.ConsumedCounter(c.Topic))
		in.source, in.committed = t.sources[c.Topic], c.Offset
		t.inputs = append(t.inputs, in)
	}
	return nil
}

// readsWritten tells whether the tasks read topic before its records are
// durable (input.written): a repartition topic, which only this app's
// commits make use of, on a client that lets the engine read so and await
// durability before it commits (the embedded broker's).
func (e *Engine) readsWritten(topic string) bool {
	it := e.topo.InternalTopics[topic]
	if it == nil || !it.Repartition {
		return false
	}
	_, wf := e.cfg.Client.(broker.WrittenFetcher)
	_, da := e.cfg.Client.(broker.DeferredAppender)
	return wf && da
}

// close runs the task's OnClose functions, then closes its stores. After a
// final commit their caches are empty; after a failure, uncommitted updates
// are dropped (the inputs that made them are processed again at the next
// start).
func (t *task) close() error {
	errs := t.runClosers()
	for _, s := range t.stores {
		if err := s.cached.Abandon(); err != nil && !errors.Is(err, storage.ErrClosed) {
			errs = append(errs, fmt.Errorf("engine: task %s: close store %s: %w", t.id, s.name, err))
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) partitions(topic string) (int32, error) {
	if n, ok := e.parts.Load(topic); ok {
		return n.(int32), nil
	}
	n, err := e.cfg.Client.Partitions(context.Background(), topic)
	if err != nil {
		return 0, fmt.Errorf("engine: output topic %s: %w", topic, err)
	}
	e.parts.Store(topic, n)
	return n, nil
}

// Stats are the engine's counters.
type Stats struct {
	Commits int64
	// Errors counts records skipped or dead-lettered, or that failed.
	Errors int64
	// Records counts the input records the tasks have processed, those of
	// internal topics included.
	Records int64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{Commits: e.commits.Load(), Errors: e.errorCount.Load(), Records: e.records.Load()}
}

// StoreInfo tells where a store lives and how its last restore went.
type StoreInfo struct {
	Partitions int32
	// Restored is, per partition (task), how many changelog records the
	// restore at startup replayed; RestoredFrom the changelog offset it
	// started at (broker.Earliest when no checkpoint vouched for local
	// state, so the whole changelog was replayed).
	Restored     map[int32]int64
	RestoredFrom map[int32]int64
	// Standby lists the partitions this instance keeps a standby copy of,
	// each true once the copy finished its first restore (it is warm: it
	// tails the changelog), false while that restore runs.
	Standby map[int32]bool
}

// ErrNotReady is returned by queries before the engine has restored its
// tasks.
var ErrNotReady = errors.New("engine: not running yet")

// Store returns the store of the task that owns partition, for
// interactive queries (reads only; they see cached, uncommitted updates).
func (e *Engine) Store(name string, partition int32) (storage.Store, error) {
	e.mu.RLock()
	if e.plan == nil {
		e.mu.RUnlock()
		return nil, ErrNotReady
	}
	sub, ok := e.plan.storeSub[name]
	if !ok {
		e.mu.RUnlock()
		return nil, fmt.Errorf("engine: no store %q", name)
	}
	t := e.tasks[topology.TaskID{Subtopology: sub, Partition: partition}]
	e.mu.RUnlock()
	if t == nil {
		return nil, e.missingTask(name, partition)
	}
	return t.byName[name].cached, nil
}

// StoreInfo describes a store.
func (e *Engine) StoreInfo(name string) (StoreInfo, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.plan == nil {
		return StoreInfo{}, ErrNotReady
	}
	sub, ok := e.plan.storeSub[name]
	if !ok {
		return StoreInfo{}, fmt.Errorf("engine: no store %q", name)
	}
	info := StoreInfo{Partitions: e.plan.tasks[sub], Restored: map[int32]int64{}, RestoredFrom: map[int32]int64{}, Standby: map[int32]bool{}}
	for id, t := range e.tasks {
		if id.Subtopology == sub {
			info.Restored[id.Partition] = t.byName[name].restored
			info.RestoredFrom[id.Partition] = t.byName[name].restoredFrom
		}
	}
	for id, st := range e.standbys {
		if id.Subtopology == sub {
			info.Standby[id.Partition] = st.caughtUp.Load()
		}
	}
	return info, nil
}
