package engine

import (
	"errors"
	"fmt"
	"slices"

	"github.com/eddy-streams/eddy/internal/topology"
)

// ErrNotLocal is matched by the error Store returns for a partition that
// another instance of the app runs (a *NotLocalError, which names it).
var ErrNotLocal = errors.New("engine: the partition runs on another instance")

// NotLocalError says which instance runs the task holding a store's
// partition, for a query layer to send the caller there.
type NotLocalError struct {
	Store     string
	Partition int32
	Owner     Instance
}

func (e *NotLocalError) Error() string {
	where := e.Owner.Endpoint
	if where == "" {
		where = "instance " + e.Owner.ProcessID + " (no application server set)"
	}
	return fmt.Sprintf("engine: store %s partition %d runs on %s", e.Store, e.Partition, where)
}

// Is makes errors.Is(err, ErrNotLocal) true.
func (e *NotLocalError) Is(target error) bool { return target == ErrNotLocal }

// Assignment returns the group's assignment of the current generation.
// ok is false when the engine is not in a group (it then runs every task
// itself) or has not been assigned yet.
func (e *Engine) Assignment() (GroupAssignment, bool) {
	e.mu.RLock()
	g := e.group
	e.mu.RUnlock()
	if g == nil {
		return GroupAssignment{}, false
	}
	return g.assignment()
}

// StoreOwner returns the instance whose active task holds a store's
// partition, and whether that is this instance. Without a group every
// partition is local (Instance is then empty). ErrNotReady means nobody
// is known to run it yet.
func (e *Engine) StoreOwner(name string, partition int32) (Instance, bool, error) {
	e.mu.RLock()
	p, g := e.plan, e.group
	e.mu.RUnlock()
	if p == nil {
		return Instance{}, false, ErrNotReady
	}
	sub, ok := p.storeSub[name]
	if !ok {
		return Instance{}, false, fmt.Errorf("engine: no store %q", name)
	}
	if partition < 0 || partition >= p.tasks[sub] {
		return Instance{}, false, fmt.Errorf("engine: store %s has no partition %d (it has %d)", name, partition, p.tasks[sub])
	}
	if g == nil {
		return Instance{}, true, nil
	}
	a, ok := g.assignment()
	if !ok {
		return Instance{}, false, fmt.Errorf("%w: store %s partition %d: no assignment yet", ErrNotReady, name, partition)
	}
	id := topology.TaskID{Subtopology: sub, Partition: partition}
	for _, in := range a.Instances {
		if slices.Contains(in.Active, id) {
			return in, in.ProcessID == a.ProcessID, nil
		}
	}
	return Instance{}, false, fmt.Errorf("%w: store %s partition %d is not assigned", ErrNotReady, name, partition)
}

// missingTask is Store's error for a store partition whose task is not
// open here: another instance runs it, or it is not restored yet.
func (e *Engine) missingTask(name string, partition int32) error {
	owner, local, err := e.StoreOwner(name, partition)
	if err == nil && !local {
		return &NotLocalError{Store: name, Partition: partition, Owner: owner}
	}
	return fmt.Errorf("%w: store %s partition %d", ErrNotReady, name, partition)
}
