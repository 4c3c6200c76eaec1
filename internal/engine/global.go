package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// globals runs the app's global stores: one goroutine applies every
// partition of every global topic to its store, fed by one fetcher per
// partition (the tasks' fetch loop). Tasks read the stores concurrently,
// which the stores allow (one writer, any readers).
type globals struct {
	e      *Engine
	stores []*globalStore // sorted by name
	byName map[string]*globalStore
	notify chan struct{}
	dir    string // "<state dir>/<app id>/global"; "" when nothing is on disk
}

type globalStore struct {
	spec   *topology.GlobalStore
	store  storage.Store
	inputs []*input // one per partition of the topic
}

// ErrGlobalStore reports a global store the engine cannot run.
var ErrGlobalStore = errors.New("engine: global store")

func globalDir(e *Engine) string { return filepath.Join(e.cfg.StateDir, e.cfg.AppID, "global") }

// globalCheckpoint is where the global stores' topic offsets are kept.
func (g *globals) checkpointPath() string { return filepath.Join(g.dir, ".checkpoint") }

// openGlobals opens the topology's global stores, with partitions per
// topic from partitionsOf, and positions their inputs: where the
// checkpoint says for a LevelDB store that has one, else at the start
// (start) of an emptied store. It returns nil when there are none.
func (e *Engine) openGlobals(partitionsOf func(topic string) (int32, error), start func(topic string, p int32) (int64, error)) (*globals, error) {
	if len(e.topo.Globals) == 0 {
		return nil, nil
	}
	g := &globals{e: e, byName: map[string]*globalStore{}, notify: make(chan struct{}, 1)}
	if e.cfg.StateDir != "" && !e.cfg.InMemoryStores {
		g.dir = globalDir(e)
	}
	cp := map[string]int64{}
	if g.dir != "" {
		var err error
		if cp, err = storage.ReadCheckpoint(g.checkpointPath()); err != nil {
			e.cfg.Logger.Warn("ignoring unreadable global checkpoint; re-reading global topics", "err", err)
			cp = map[string]int64{}
		}
	}
	names := make([]string, 0, len(e.topo.Globals))
	for name := range e.topo.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		gs, err := g.open(e.topo.Globals[name], cp, partitionsOf, start)
		if err != nil {
			return nil, errors.Join(err, g.close())
		}
		g.stores = append(g.stores, gs)
		g.byName[name] = gs
	}
	return g, nil
}

func (g *globals) open(spec *topology.GlobalStore, cp map[string]int64, partitionsOf func(string) (int32, error), start func(string, int32) (int64, error)) (*globalStore, error) {
	e := g.e
	if _, ok := e.topo.Stores[spec.Name]; ok {
		return nil, fmt.Errorf("%w %s: a task store has the same name", ErrGlobalStore, spec.Name)
	}
	for _, n := range e.topo.Nodes {
		for _, t := range n.Topics {
			if t == spec.Topic && n.Kind == topology.Source {
				return nil, fmt.Errorf("%w %s: its topic %s is also read by source %s", ErrGlobalStore, spec.Name, t, n.Name)
			}
		}
	}
	n, err := partitionsOf(spec.Topic)
	if err != nil {
		return nil, fmt.Errorf("%w %s: topic %s: %w", ErrGlobalStore, spec.Name, spec.Topic, err)
	}
	resume := g.dir != "" && !spec.InMemory
	for p := range n {
		if _, ok := cp[checkpointKey(spec.Topic, p)]; !ok {
			resume = false
		}
	}
	gs := &globalStore{spec: spec}
	if g.dir == "" || spec.InMemory {
		gs.store = storage.NewMemory(spec.Name)
	} else {
		dir := filepath.Join(g.dir, spec.Name)
		if !resume {
			// Without a checkpoint the store may hold keys whose deletes
			// compaction has since removed from the topic: start empty.
			if err := storage.Destroy(dir); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("%w %s: wipe: %w", ErrGlobalStore, spec.Name, err)
			}
		}
		db, err := storage.OpenLevelDB(dir, storage.LevelDBOptions{Name: spec.Name})
		if err != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrGlobalStore, spec.Name, err)
		}
		gs.store = db
	}
	for p := range n {
		from, ok := cp[checkpointKey(spec.Topic, p)]
		if !resume || !ok {
			if from, err = start(spec.Topic, p); err != nil {
				return nil, errors.Join(fmt.Errorf("%w %s: start of %s-%d: %w", ErrGlobalStore, spec.Name, spec.Topic, p, err), gs.store.Close())
			}
		}
		gs.inputs = append(gs.inputs, &input{topic: spec.Topic, partition: p, chunks: make(chan []byte, chunksAhead), next: from, committed: from})
	}
	return gs, nil
}

// startGlobals opens the global stores and reads their topics to the end
// before the engine builds its tasks; it returns nil when there are none.
func (e *Engine) startGlobals(ctx context.Context) (*globals, error) {
	c := e.cfg.Client
	g, err := e.openGlobals(func(topic string) (int32, error) { return c.Partitions(ctx, topic) },
		func(topic string, p int32) (int64, error) { return c.ListOffset(ctx, topic, p, broker.Earliest) })
	if err != nil || g == nil {
		return nil, err
	}
	if err := g.bootstrap(ctx); err != nil {
		return nil, errors.Join(err, g.close())
	}
	e.mu.Lock()
	e.globals = g
	e.mu.Unlock()
	return g, nil
}

// store returns a read-only view of a global store.
func (g *globals) store(name string) (storage.Store, error) {
	if g != nil {
		if gs := g.byName[name]; gs != nil {
			return readOnly{gs.store}, nil
		}
	}
	return nil, fmt.Errorf("%w %q: not declared", ErrGlobalStore, name)
}

// close closes the stores.
func (g *globals) close() error {
	if g == nil {
		return nil
	}
	var errs []error
	for _, gs := range g.stores {
		errs = append(errs, gs.store.Close())
	}
	return errors.Join(errs...)
}

// GlobalStore gives a task's processors a global store, read-only.
func (t *task) GlobalStore(name string) (storage.Store, error) { return t.e.globals.store(name) }

var _ topology.GlobalStores = (*task)(nil)

// GlobalStore returns a global store for interactive queries (read-only).
func (e *Engine) GlobalStore(name string) (storage.Store, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.plan == nil {
		return nil, ErrNotReady
	}
	return e.globals.store(name)
}

// errReadOnly is returned by writes to a global store's view.
var errReadOnly = errors.New("engine: global stores are written by their topic only")

// readOnly is the view of a global store that tasks and queries get.
type readOnly struct{ storage.Store }

func (readOnly) Put([]byte, []byte) error       { return errReadOnly }
func (readOnly) Delete([]byte) error            { return errReadOnly }
func (readOnly) Apply([]storage.Mutation) error { return errReadOnly }
func (readOnly) Flush() error                   { return errReadOnly }
func (readOnly) Close() error                   { return errReadOnly }
