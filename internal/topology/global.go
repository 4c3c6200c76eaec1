package topology

import (
	"fmt"

	"github.com/eddy-streams/eddy/storage"
)

// GlobalStore is a store that holds every partition of a topic and that
// every task reads: the state behind a global table. The engine fills it
// in a goroutine of its own — to the end of the topic before any task
// processes a record, then as records arrive — and tasks only read it.
// The topic is its changelog: it has none of its own, and a restart
// resumes reading the topic where the store's checkpoint says.
type GlobalStore struct {
	Name  string
	Topic string
	// InMemory keeps the store in memory (re-read from the topic at each
	// start) instead of LevelDB.
	InMemory bool
	// Update turns a record of Topic into the write it makes to the store;
	// ok is false for a record that writes nothing (one without a key). A
	// *DeserializeError goes to the app's deserialization policy, other
	// errors to its processing policy.
	Update func(r *RawRecord) (m storage.Mutation, ok bool, err error)
}

// AddGlobal declares a global store, refusing a name another store (global
// or not) has and a topic another global store reads.
func (t *Topology) AddGlobal(g *GlobalStore) error {
	if _, ok := t.Stores[g.Name]; ok {
		return fmt.Errorf("topology: two stores are named %q", g.Name)
	}
	for _, o := range t.Globals {
		switch {
		case o.Name == g.Name:
			return fmt.Errorf("topology: two global stores are named %q", g.Name)
		case o.Topic == g.Topic:
			return fmt.Errorf("topology: global stores %s and %s both read topic %s; share one global table", o.Name, g.Name, g.Topic)
		}
	}
	if g.Topic == "" || g.Update == nil {
		return fmt.Errorf("topology: global store %q needs a topic and an update function", g.Name)
	}
	if t.Globals == nil {
		t.Globals = map[string]*GlobalStore{}
	}
	t.Globals[g.Name] = g
	return nil
}

// GlobalStores is what a TaskContext offers when its engine runs global
// stores: a read-only view of one. Processors reach it by a type assertion
// on their TaskContext.
type GlobalStores interface {
	// GlobalStore returns the named global store. Its contents change
	// under the reader as the topic is read; writes are refused.
	GlobalStore(name string) (storage.Store, error)
}
