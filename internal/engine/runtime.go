package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/eddy-streams/eddy/internal/topology"
)

// runtime is the set of tasks this instance runs and the workers running
// them. Tasks come and go while the workers run: a new task is restored
// on the goroutine that owns the runtime (Run's) and handed to a worker
// through its control channel; a task is taken away only while every
// worker is parked (pause), after committing it. Only Run's goroutine
// calls runtime methods.
type runtime struct {
	e        *Engine
	ctx      context.Context // workers', fetchers' and standbys'; ends at shutdown or when a worker fails
	cancel   context.CancelFunc
	pcancel  context.CancelFunc // the producers'
	workers  []*worker
	cache    cacheShare
	active   map[topology.TaskID]*activeTask
	standbys map[topology.TaskID]*standbyTask
	align    map[int]*alignGroup // sub-topology → its tasks here, see align.go
	started  bool
	release  chan struct{} // closed to unpark the workers; nil when running

	running sync.WaitGroup
	mu      sync.Mutex
	errs    []error // the workers' results
}

// activeTask is a task being processed, with the fetchers feeding it.
type activeTask struct {
	t        *task
	w        *worker
	stop     context.CancelFunc
	fetchers sync.WaitGroup
}

// newRuntime makes the workers (not started) and sizes store caches for
// the plan's tasks.
func (e *Engine) newRuntime(ctx context.Context) *runtime {
	r := &runtime{e: e, active: map[topology.TaskID]*activeTask{}, standbys: map[topology.TaskID]*standbyTask{}}
	r.ctx, r.cancel = context.WithCancel(ctx)
	// Producers outlive the workers' context: the final commit appends
	// after it is cancelled.
	pctx, pcancel := context.WithCancel(context.WithoutCancel(ctx))
	r.pcancel = pcancel
	repartition := map[string]bool{}
	for name, it := range e.topo.InternalTopics {
		repartition[name] = it.Repartition
	}
	for range e.cfg.Threads {
		w := &worker{e: e, ctx: r.ctx, notify: make(chan struct{}, 1), ctl: make(chan func(), 4), done: make(chan struct{})}
		w.producer = newProducer(pctx, e.cfg.Client, e.partitions, e.cfg.Now, repartition, e.cfg.MaxTaskDrift)
		r.workers = append(r.workers, w)
	}
	producers := make([]*producer, len(r.workers))
	for i, w := range r.workers {
		producers[i] = w.producer
	}
	r.align = alignGroups(e.topo, e.plan.subs, e.cfg.MaxTaskDrift, producers)
	r.cache = newCacheShare(e.cfg.CacheMaxBytes, e.plan)
	return r
}

// openActive builds and restores a task on the least loaded worker and
// starts its fetchers; attach hands it to the worker. ctx bounds the
// restore.
func (r *runtime) openActive(ctx context.Context, id topology.TaskID) (*activeTask, error) {
	w := r.leastLoaded()
	var t *task
	var err error
	if st := r.standbys[id]; st != nil {
		r.dropStandby(id)
		t, err = r.promote(ctx, st, w)
	} else {
		t, err = r.e.newTask(ctx, id, w, r.cache)
	}
	if err != nil {
		return nil, err
	}
	if g := r.align[id.Subtopology]; g != nil {
		t.align = g
		g.join(t)
	}
	fctx, stop := context.WithCancel(r.ctx)
	at := &activeTask{t: t, w: w, stop: stop}
	for _, in := range t.inputs {
		at.fetchers.Add(1)
		go func() {
			defer at.fetchers.Done()
			fetch(fctx, r.e.cfg.Client, in, in.next, r.e.cfg.FetchMaxBytes, r.e.cfg.PollWait, w.notify,
				func(msg string, args ...any) { r.e.cfg.Logger.Warn(msg, args...) })
		}()
	}
	r.active[id] = at
	r.e.mu.Lock()
	r.e.tasks[id] = t
	r.e.mu.Unlock()
	return at, nil
}

// attach gives a task to its worker: directly before the workers start,
// else through the worker's control channel.
func (r *runtime) attach(at *activeTask) error {
	if !r.started {
		at.w.tasks = append(at.w.tasks, at.t)
		return nil
	}
	select {
	case at.w.ctl <- func() { at.w.tasks = append(at.w.tasks, at.t) }:
		return nil
	case <-at.w.done:
		return fmt.Errorf("engine: task %s: its worker stopped", at.t.id)
	}
}

func (r *runtime) leastLoaded() *worker {
	load := map[*worker]int{}
	for _, at := range r.active {
		load[at.w]++
	}
	best := r.workers[0]
	for _, w := range r.workers[1:] {
		if load[w] < load[best] {
			best = w
		}
	}
	return best
}

// closeActive stops a task's fetchers and closes it. The workers must be
// parked, stopped or not started, and the task committed (or lost).
func (r *runtime) closeActive(id topology.TaskID) error {
	at := r.active[id]
	at.stop()
	at.fetchers.Wait()
	at.w.tasks = slices.DeleteFunc(at.w.tasks, func(t *task) bool { return t == at.t })
	if at.t.align != nil {
		at.t.align.leave(at.t)
	}
	delete(r.active, id)
	r.e.mu.Lock()
	delete(r.e.tasks, id)
	r.e.mu.Unlock()
	return at.t.close()
}

// startWorkers runs the workers; a failing worker cancels the runtime.
func (r *runtime) startWorkers() {
	r.started = true
	for _, w := range r.workers {
		r.running.Add(1)
		go func() {
			defer r.running.Done()
			err := w.run()
			close(w.done)
			if err != nil {
				r.cancel() // one failing worker stops the app
			}
			r.mu.Lock()
			r.errs = append(r.errs, err)
			r.mu.Unlock()
		}()
	}
}

// pause makes every worker commit its tasks (unless commit is false) and
// park until resume, and returns the commits' errors. A worker that
// stopped (shutdown or failure) counts as parked.
func (r *runtime) pause(commit bool) error {
	release := make(chan struct{})
	r.release = release
	acks := make([]chan error, len(r.workers))
	for i, w := range r.workers {
		ack := make(chan error, 1)
		acks[i] = ack
		park := func() {
			if commit {
				ack <- w.commit()
			} else {
				ack <- nil
			}
			select {
			case <-release:
			case <-w.ctx.Done():
			}
		}
		select {
		case w.ctl <- park:
		case <-w.done:
		}
	}
	var errs []error
	for i, w := range r.workers {
		select {
		case err := <-acks[i]:
			errs = append(errs, err)
		case <-w.done:
		}
	}
	return errors.Join(errs...)
}

// resume unparks the workers.
func (r *runtime) resume() {
	if r.release != nil {
		close(r.release)
		r.release = nil
	}
}

// shutdown stops the workers (each commits its tasks first), then closes
// every task and standby and stops the producers; it returns the workers'
// errors and the closes'.
func (r *runtime) shutdown() error {
	r.cancel()
	r.resume()
	r.running.Wait()
	r.mu.Lock()
	all := slices.Clone(r.errs)
	r.mu.Unlock()
	ids := make([]topology.TaskID, 0, len(r.active))
	for id := range r.active {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareTasks)
	for _, id := range ids {
		all = append(all, r.closeActive(id))
	}
	for id := range r.standbys {
		all = append(all, r.closeStandby(id))
	}
	for _, w := range r.workers {
		w.producer.close()
	}
	r.pcancel()
	return errors.Join(all...)
}

// runAll is the engine without a group: this instance owns every task.
func (r *runtime) runAll() error {
	for _, id := range r.e.plan.taskIDs() {
		at, err := r.openActive(r.ctx, id)
		if err == nil {
			err = r.attach(at)
		}
		if err != nil {
			return errors.Join(err, r.shutdown())
		}
	}
	close(r.e.ready)
	r.startWorkers()
	<-r.ctx.Done()
	return r.shutdown()
}
