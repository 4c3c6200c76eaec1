package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// task runs one sub-topology on one partition number of its input topics.
// Only its worker goroutine touches it, except store reads by interactive
// queries (the stores allow concurrent readers).
type task struct {
	id      topology.TaskID
	e       *Engine
	w       *worker  // nil in a Driver
	out     sender   // where Send, changelogs and dead letters go
	inputs  []*input // one per input topic, sorted by topic
	sources map[string]topology.SourceFunc
	stores  []*taskStore // in declaration order: flush order
	byName  map[string]*taskStore
	memo    map[any]any

	streamTime int64
	// roundNow is the wall clock at the start of the round of records
	// being processed; zero outside a round (see Now).
	roundNow time.Time
	// align is the task's sub-topology's alignment group (align.go), nil
	// if it writes no repartition topic; head is what it published there.
	align *alignGroup
	head  atomic.Int64

	current *topology.RawRecord
	puncts  []*punctuation
	closers []func() error // OnClose functions, in registration order
	dir     string
	// checkpointed is set while the checkpoint file matches the local
	// stores; the first local write after it removes the file, so a crash
	// in between forces a full restore instead of trusting stale state.
	checkpointed bool
}

type taskStore struct {
	name      string
	changelog string
	cached    *storage.Cached
	listeners []func([]storage.Mutation) error
	// restored is how many changelog records the last restore replayed,
	// starting at restoredFrom (-2: from the earliest, no usable checkpoint).
	restored     int64
	restoredFrom int64
	// checkpoint is the changelog offset the local store holds up to
	// (broker.Earliest while a restore has yet to apply anything to a
	// store that started empty).
	checkpoint int64
	inMemory   bool
}

type punctuation struct {
	interval time.Duration
	kind     topology.PunctuationType
	next     int64 // stream time (ms) or wall-clock (unix ms) of the next call
	fn       func(int64) error
}

// sender takes the records a task produces: the worker's producer, which
// appends them to the broker in the background, or a Driver, which keeps
// them in memory and processes those sent to its own input topics.
type sender interface {
	// send adds a record; partition -1 picks Kafka's default partition
	// for the key.
	send(topic string, partition int32, key, value []byte, ts int64, headers []batch.RecordHeader) error
}

var _ topology.TaskContext = (*task)(nil)

func (t *task) TaskID() topology.TaskID { return t.id }

func (t *task) Store(name string) (storage.Store, error) {
	s := t.byName[name]
	if s == nil {
		return nil, fmt.Errorf("engine: task %s has no store %q (declare it on the operator that uses it)", t.id, name)
	}
	return s.cached, nil
}

func (t *task) OnFlush(store string, fn func([]storage.Mutation) error) {
	if s := t.byName[store]; s != nil {
		s.listeners = append(s.listeners, fn)
	}
}

func (t *task) Send(topic string, partition int32, key, value []byte, ts int64, headers []batch.RecordHeader) error {
	return t.out.send(topic, partition, key, value, ts, headers)
}

func (t *task) Partitions(topic string) (int32, error) { return t.e.partitions(topic) }

func (t *task) StreamTime() int64 { return t.streamTime }

func (t *task) Now() time.Time {
	if t.roundNow.IsZero() {
		return t.e.cfg.Now()
	}
	return t.roundNow
}

func (t *task) Schedule(interval time.Duration, kind topology.PunctuationType, fn func(int64) error) {
	p := &punctuation{interval: interval, kind: kind, fn: fn}
	if kind == topology.WallClock {
		p.next = t.e.cfg.Now().Add(interval).UnixMilli()
	} else {
		p.next = -1 // set from the first stream time seen
	}
	t.puncts = append(t.puncts, p)
}

func (t *task) Current() *topology.RawRecord { return t.current }

func (t *task) OnClose(fn func() error) { t.closers = append(t.closers, fn) }

// runClosers calls the OnClose functions once, newest first, turning
// panics into errors so that every one runs and the stores still close.
func (t *task) runClosers() []error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		if err := callSafely(t.closers[i]); err != nil {
			errs = append(errs, fmt.Errorf("engine: task %s: on close: %w", t.id, err))
		}
	}
	t.closers = nil
	return errs
}

func (t *task) Memo(key any, build func() (any, error)) (any, error) {
	if v, ok := t.memo[key]; ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return nil, err
	}
	t.memo[key] = v
	return v, nil
}

// makeTask returns a task of the plan with nothing opened or built yet,
// producing through out.
func (e *Engine) makeTask(id topology.TaskID, out sender) *task {
	return &task{id: id, e: e, out: out, sources: map[string]topology.SourceFunc{}, byName: map[string]*taskStore{},
		memo: map[any]any{}, streamTime: -1, dir: filepath.Join(e.cfg.StateDir, e.cfg.AppID, id.String())}
}

// buildSources builds the task's processor chains, one per source node.
func (t *task) buildSources(sub *topology.Subtopology) error {
	for _, src := range sub.Sources {
		f, err := src.Build(t)
		if err != nil {
			return fmt.Errorf("engine: task %s: build %s: %w", t.id, src.Name, err)
		}
		for _, topic := range src.Topics {
			t.sources[topic] = f
		}
	}
	// The processors are built, and with them the stores' flush
	// listeners: a store without any only writes its flushes to the
	// changelog, which needs no key order.
	for _, s := range t.stores {
		s.cached.SetUnorderedFlush(len(s.listeners) == 0)
	}
	return nil
}

// openStores opens the task's stores and returns the checkpoint that says
// how far each holds its changelog, for restore.
func (t *task) openStores(sub *topology.Subtopology, cache cacheShare) (map[string]int64, error) {
	cp, err := storage.ReadCheckpoint(t.checkpointPath())
	if err != nil {
		t.e.cfg.Logger.Warn("ignoring unreadable checkpoint; restoring stores from scratch", "task", t.id, "err", err)
		cp = map[string]int64{}
	}
	for _, name := range sub.Stores {
		spec := t.e.topo.Stores[name]
		var inner storage.Store
		inMemory := spec.InMemory || t.e.cfg.InMemoryStores
		if inMemory {
			if inner, err = newMemoryStore(spec); err != nil {
				return nil, fmt.Errorf("engine: task %s: store %s: %w", t.id, name, err)
			}
		} else {
			dir := filepath.Join(t.dir, name)
			if _, ok := cp[checkpointKey(spec.Changelog, t.id.Partition)]; !ok && spec.Changelog != "" {
				// Without a checkpoint the local store may hold writes its
				// changelog lacks: start it empty.
				if err := destroyDiskStore(spec, dir); err != nil && !os.IsNotExist(err) {
					return nil, fmt.Errorf("engine: task %s: wipe store %s: %w", t.id, name, err)
				}
			}
			db, err := openDiskStore(spec, dir)
			if errors.Is(err, storage.ErrLocked) {
				return nil, fmt.Errorf("engine: task %s: store %s is open in another process (two instances with one state directory?): %w", t.id, name, err)
			}
			if err != nil {
				t.e.cfg.Logger.Warn("local store unusable, wiping it to restore from its changelog", "task", t.id, "store", name, "err", err)
				if derr := destroyDiskStore(spec, dir); derr != nil {
					return nil, fmt.Errorf("engine: task %s: store %s: %w (and wiping failed: %v)", t.id, name, err, derr)
				}
				if db, err = openDiskStore(spec, dir); err != nil {
					return nil, fmt.Errorf("engine: task %s: store %s: %w", t.id, name, err)
				}
				_ = storage.RemoveCheckpoint(t.checkpointPath())
				// The wiped store starts empty: restore its whole changelog.
				delete(cp, checkpointKey(spec.Changelog, t.id.Partition))
			}
			inner = db
		}
		ts := &taskStore{name: name, changelog: spec.Changelog, checkpoint: -1, inMemory: inMemory}
		ts.cached = storage.NewSharedCached(inner, cache.budget, cache.perStore, func(entries []storage.Mutation) error { return t.flushed(ts, entries) })
		t.stores = append(t.stores, ts)
		t.byName[name] = ts
	}
	return cp, nil
}

// flushed receives a store's cache flush: changelog first, then the
// operators that forward the updates downstream.
func (t *task) flushed(s *taskStore, entries []storage.Mutation) error {
	if t.checkpointed {
		if err := storage.RemoveCheckpoint(t.checkpointPath()); err != nil {
			return fmt.Errorf("engine: task %s: %w", t.id, err)
		}
		t.checkpointed = false
	}
	if s.changelog != "" {
		now := t.e.cfg.Now().UnixMilli()
		for _, m := range entries {
			var v []byte
			if !m.Delete {
				v = m.Value
			}
			if err := t.out.send(s.changelog, t.id.Partition, m.Key, v, now, nil); err != nil {
				return err
			}
		}
	}
	for _, fn := range s.listeners {
		if err := fn(entries); err != nil {
			return err
		}
	}
	return nil
}

func (t *task) checkpointPath() string { return filepath.Join(t.dir, ".checkpoint") }

// checkpointKey names a changelog partition in the checkpoint file.
func checkpointKey(topic string, partition int32) string {
	return fmt.Sprintf("%s-%d", topic, partition)
}
