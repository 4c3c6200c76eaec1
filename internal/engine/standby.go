package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// standbyTask keeps a warm copy of another instance's task: its stores,
// restored from their changelogs and then kept up by tailing them. It
// processes nothing. If its task comes to this instance, the active task
// takes over its open stores and replays only the changelogs' tail
// (promote).
//
// Its goroutine owns the task until done is closed; then the runtime does.
type standbyTask struct {
	t    *task
	stop context.CancelFunc
	done chan struct{}
	// opened is set once the stores are open and their restore has its
	// starting points: from then on the stores' checkpoint offsets say how
	// far they are, even mid-restore. failed is set when the goroutine
	// stopped on an error of its own rather than because it was halted.
	// The runtime reads both only after done is closed.
	opened, failed bool
	// caughtUp is set once the initial restore finished: the copy is warm
	// and tails the changelogs.
	caughtUp atomic.Bool
	// position is the sum of the offsets the stores hold their changelogs
	// up to, for the group metadata.
	position atomic.Int64
}

// refuseSends is a standby's sender: a standby never processes, so
// nothing may be sent.
type refuseSends struct{ id topology.TaskID }

func (r refuseSends) send(topic string, _ int32, _, _ []byte, _ int64, _ []batch.RecordHeader) error {
	return fmt.Errorf("engine: standby task %s cannot send to %s", r.id, topic)
}

// startStandby opens and restores a standby task in a goroutine of its
// own, which then tails the changelogs until closeStandby. Failures are
// logged, not fatal: a standby is an optimization, and the task restores
// from its changelogs if it comes here.
func (r *runtime) startStandby(id topology.TaskID) {
	ctx, stop := context.WithCancel(r.ctx)
	st := &standbyTask{stop: stop, done: make(chan struct{})}
	st.position.Store(-1)
	st.t = r.e.makeTask(id, refuseSends{id})
	r.setStandby(id, st)
	go func() {
		defer close(st.done)
		if err := r.runStandby(ctx, st); err != nil && ctx.Err() == nil {
			st.failed = true
			r.e.cfg.Logger.Warn("standby task stopped; it will restore from its changelogs if it becomes active here", "task", id, "err", err)
		}
	}()
}

func (r *runtime) runStandby(ctx context.Context, st *standbyTask) error {
	t := st.t
	sub := r.e.plan.subs[t.id.Subtopology]
	cp, err := t.openStores(sub, r.cache)
	if err != nil {
		return err
	}
	t.restoreFrom(cp)
	st.opened = true
	if err := t.catchUp(ctx, "restored standby store"); err != nil {
		return err
	}
	st.caughtUp.Store(true)
	st.updatePosition()
	var stores []*taskStore
	for _, s := range t.stores {
		if s.changelog != "" {
			stores = append(stores, s)
		}
	}
	if len(stores) == 0 {
		<-ctx.Done()
		return nil
	}
	wait := max(r.e.cfg.PollWait/time.Duration(len(stores)), 10*time.Millisecond)
	nextCheckpoint := r.e.cfg.Now().Add(r.e.cfg.CommitInterval)
	for ctx.Err() == nil {
		for _, s := range stores {
			if err := st.tail(ctx, r.e.cfg.Client, s, r.e.cfg.FetchMaxBytes, wait); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, log.ErrOffsetOutOfRange) {
					return err // the changelog lost what the store needs next
				}
				r.e.cfg.Logger.Warn("standby: changelog read failed; retrying", "task", t.id, "store", s.name, "err", err)
				select {
				case <-time.After(100 * time.Millisecond):
				case <-ctx.Done():
				}
			}
		}
		if !t.checkpointed && !r.e.cfg.Now().Before(nextCheckpoint) {
			if err := t.writeCheckpoint(); err != nil {
				return err
			}
			nextCheckpoint = r.e.cfg.Now().Add(r.e.cfg.CommitInterval)
		}
	}
	return nil
}

// tail applies what one long poll of a store's changelog returns to the
// local store, bypassing the cache.
func (st *standbyTask) tail(ctx context.Context, c broker.Client, s *taskStore, maxBytes int, wait time.Duration) error {
	t := st.t
	res, err := c.Fetch(ctx, s.changelog, t.id.Partition, s.checkpoint, maxBytes, wait)
	if err != nil {
		return err
	}
	if len(res.Batches) == 0 {
		return nil
	}
	var ms []storage.Mutation
	last, err := forEachRecord(res.Batches, s.checkpoint, func(key, value []byte) {
		m := storage.Mutation{Key: append([]byte(nil), key...), Delete: value == nil}
		if value != nil {
			m.Value = append([]byte(nil), value...)
		}
		ms = append(ms, m)
	})
	if err != nil {
		return fmt.Errorf("engine: standby %s: changelog %s-%d: %w", t.id, s.changelog, t.id.Partition, err)
	}
	if len(ms) > 0 && t.checkpointed {
		// The checkpoint vouches for the store as it is: drop it before
		// the store moves past it (see task.checkpointed).
		if err := storage.RemoveCheckpoint(t.checkpointPath()); err != nil {
			return fmt.Errorf("engine: standby %s: %w", t.id, err)
		}
		t.checkpointed = false
	}
	if len(ms) > 0 {
		if err := s.cached.Inner().Apply(ms); err != nil {
			return fmt.Errorf("engine: standby %s: store %s: %w", t.id, s.name, err)
		}
	}
	s.checkpoint = max(s.checkpoint, last+1)
	st.updatePosition()
	return nil
}

func (st *standbyTask) updatePosition() {
	var sum int64
	for _, s := range st.t.stores {
		if s.changelog != "" {
			sum += max(s.checkpoint, 0)
		}
	}
	st.position.Store(sum)
}

// halt stops the standby's goroutine.
func (st *standbyTask) halt() {
	st.stop()
	<-st.done
}

// closeStandby stops a standby task and closes its stores, after making
// them durable with a checkpoint if they are restored, so that whoever
// opens them next replays only what follows.
func (r *runtime) closeStandby(id topology.TaskID) error {
	st := r.standbys[id]
	r.dropStandby(id)
	st.halt()
	var err error
	if st.caughtUp.Load() && !st.t.checkpointed {
		err = st.t.writeCheckpoint()
	}
	return errors.Join(err, st.t.close())
}

// promote turns a standby into the active task of w: its open stores are
// kept and replay only the changelogs' tail written since the standby
// last read them. A standby halted in the middle of its first restore
// goes on from where it got: the records it applied are not replayed
// again. One whose stores did not open, or that stopped on an error, is
// closed and the task opened afresh.
func (r *runtime) promote(ctx context.Context, st *standbyTask, w *worker) (*task, error) {
	st.halt()
	if !st.opened || st.failed {
		if err := st.t.close(); err != nil {
			r.e.cfg.Logger.Warn("closing a failed standby", "task", st.t.id, "err", err)
		}
		return r.e.newTask(ctx, st.t.id, w, r.cache)
	}
	t := st.t
	t.out, t.w = w.producer, w
	if err := t.catchUp(ctx, "restored store from its standby"); err != nil {
		t.close()
		return nil, err
	}
	if err := r.e.startTask(ctx, t); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// setStandby records a standby task here, for the runtime and for
// StoreInfo.
func (r *runtime) setStandby(id topology.TaskID, st *standbyTask) {
	r.standbys[id] = st
	r.e.mu.Lock()
	r.e.standbys[id] = st
	r.e.mu.Unlock()
}

// dropStandby forgets a standby task that is closed or promoted.
func (r *runtime) dropStandby(id topology.TaskID) {
	delete(r.standbys, id)
	r.e.mu.Lock()
	delete(r.e.standbys, id)
	r.e.mu.Unlock()
}
