package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/eddy-streams/eddy/broker/member"
)

// runGroup runs the tasks the group gives this instance, generation after
// generation, until ctx ends or a worker fails.
//
// When a generation ends, every worker commits its tasks and parks; the
// member rejoins; the tasks that moved away are closed (their state stays
// on disk with a checkpoint), the workers resume with the tasks that
// stayed, and the new tasks are restored from their changelogs (or
// promoted from standbys) and handed to the workers one by one. Tasks
// that stay keep their stores, caches and positions throughout.
func (r *runtime) runGroup(g *membership) error {
	g.subscribe = r.subscription
	r.startWorkers()
	ready := false
	backoff := 100 * time.Millisecond
	var runErr error
	for r.ctx.Err() == nil {
		gen, err := g.m.Next(r.ctx)
		if err != nil {
			if r.ctx.Err() != nil {
				break
			}
			var ke *kerr.Error
			if errors.Is(err, errAssign) || (errors.As(err, &ke) && !ke.Retriable) {
				runErr = fmt.Errorf("engine: group %s: %w", r.e.cfg.AppID, err)
				break
			}
			r.e.cfg.Logger.Warn("joining the group failed; retrying", "group", r.e.cfg.AppID, "err", err)
			select {
			case <-time.After(backoff):
			case <-r.ctx.Done():
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		a, err := decodeAssignment(gen.Assignment)
		if err == nil {
			err = r.checkAssignment(a)
		}
		if err != nil {
			runErr = fmt.Errorf("engine: group %s generation %d: %w", r.e.cfg.AppID, gen.ID, err)
			break
		}
		g.setAssignment(gen, a)
		r.e.cfg.Logger.Info("assignment", "group", r.e.cfg.AppID, "generation", gen.ID, "active", a.Active, "standby", a.Standby)
		complete, err := r.apply(gen, a)
		if err != nil {
			runErr = err
			break
		}
		if complete && !ready {
			ready = true
			close(r.e.ready)
		}
		select {
		case <-gen.Done:
		case <-r.ctx.Done():
		}
		if r.ctx.Err() != nil {
			break
		}
		// Commit what the tasks did, unless the group went on without
		// this instance: then others may run its tasks already, and
		// flushing would write to their changelogs.
		fenced := g.fenced(r.ctx)
		err = r.pause(!fenced)
		if err != nil && !errors.Is(err, errFenced) {
			runErr = err
			break
		}
		if fenced || err != nil {
			// Close the tasks uncommitted: their inputs since the last
			// commit are processed again by their new owners.
			r.e.cfg.Logger.Warn("this instance's generation ended without it; dropping its tasks uncommitted", "group", r.e.cfg.AppID, "err", err)
			for id := range r.active {
				if cerr := r.closeActive(id); cerr != nil {
					r.e.cfg.Logger.Warn("closing a lost task", "task", id, "err", cerr)
				}
			}
		}
	}
	err := r.shutdown()
	lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if lerr := g.m.Leave(lctx); lerr != nil {
		r.e.cfg.Logger.Warn("leaving the group failed; the coordinator drops this member when its session expires", "group", r.e.cfg.AppID, "err", lerr)
	}
	return errors.Join(runErr, err)
}

// checkAssignment refuses tasks this instance's topology does not have.
func (r *runtime) checkAssignment(a memberAssignment) error {
	for _, id := range slices.Concat(a.Active, a.Standby) {
		if id.Subtopology < 0 || id.Subtopology >= len(r.e.plan.subs) || id.Partition < 0 || id.Partition >= r.e.plan.tasks[id.Subtopology] {
			return fmt.Errorf("the leader assigned task %s, which this instance's topology does not have: do all instances run the same topology on the same topics?", id)
		}
	}
	return nil
}

// apply moves from the tasks of the last generation to those of gen: the
// workers are parked (or have no tasks yet) on entry and run on return.
// It reports whether every active task of gen was opened; it stops early,
// without error, when gen ends first.
func (r *runtime) apply(gen member.Generation, a memberAssignment) (bool, error) {
	active, standby := setOf(a.Active), setOf(a.Standby)
	var errs []error
	for id := range r.active {
		if !active[id] {
			errs = append(errs, r.closeActive(id))
		}
	}
	r.resume()
	if err := errors.Join(errs...); err != nil {
		return false, err
	}
	// New active tasks first (a standby of one is promoted), then the
	// standbys: they only shorten later restores.
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	go func() {
		select {
		case <-gen.Done:
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, id := range a.Active {
		if r.active[id] != nil {
			continue
		}
		at, err := r.openActive(ctx, id)
		if err == nil {
			err = r.attach(at)
		}
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // the generation ended (or the app stops) mid-restore
			}
			return false, err
		}
	}
	for id := range r.standbys {
		if !standby[id] {
			if err := r.closeStandby(id); err != nil {
				r.e.cfg.Logger.Warn("closing a standby task", "task", id, "err", err)
			}
		}
	}
	for _, id := range a.Standby {
		if r.standbys[id] == nil {
			r.startStandby(id)
		}
	}
	return true, nil
}

// subscription is this instance's join metadata: what it ran and how far
// its local state of each task is.
func (r *runtime) subscription() subscription {
	sub := subscription{ProcessID: r.e.group.processID, Endpoint: r.e.cfg.ApplicationServer, Offsets: r.e.localTaskOffsets()}
	for id := range r.active {
		sub.PrevActive = append(sub.PrevActive, id)
		sub.Offsets[id] = runningActiveOffset
	}
	for id, st := range r.standbys {
		sub.PrevStandby = append(sub.PrevStandby, id)
		if pos := st.position.Load(); pos >= 0 {
			sub.Offsets[id] = pos
		}
	}
	slices.SortFunc(sub.PrevActive, compareTasks)
	slices.SortFunc(sub.PrevStandby, compareTasks)
	return sub
}
