package table

import (
	"fmt"
	"sync/atomic"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
)

// counterSource is what the engine's tasks offer beyond TaskContext:
// named counters that queries read (DroppedRecords).
type counterSource interface {
	Counter(name string) *atomic.Int64
}

// droppedCounter names the engine counter of the records a join dropped.
func droppedCounter(join string) string { return join + ".dropped-records" }

// dropCounter returns the task's counter of records the join named join
// drops; without engine counters (a context that has none) it counts into
// a private one, so callers need not check.
func dropCounter(tc topology.TaskContext, join string) *atomic.Int64 {
	if cs, ok := tc.(counterSource); ok {
		return cs.Counter(droppedCounter(join))
	}
	return new(atomic.Int64)
}

// DroppedRecords returns how many records the join called name (its Named
// option) dropped in a running app, across its tasks: stream records with
// a null value, and with a null key for inner joins, which cannot join
// (Kafka Streams drops them too). Dropping is never silent: this is the
// metric.
func DroppedRecords(app *stream.App, name string) int64 {
	return app.Internal().Counter(droppedCounter(name)).Load()
}

// storedValue reads a key's value from a table store (the timestamp of the
// update that wrote it in front, as every table store keeps them). found is
// false for a missing key.
func storedValue[V any](st storage.Store, store string, vs serde.Serde[V], kb []byte) (v V, ts int64, found bool, err error) {
	raw, found, err := st.Get(kb)
	if err != nil || !found {
		return v, 0, false, err
	}
	ts, vb, err := dsl.DecodeTimestamped(raw)
	if err != nil {
		return v, 0, false, fmt.Errorf("table %s: %w", store, err)
	}
	if v, err = vs.Deserialize(store, vb); err != nil {
		return v, 0, false, fmt.Errorf("table %s: stored value: %w", store, err)
	}
	return v, ts, true, nil
}

// putValue writes a table value with its timestamp.
func putValue[V any](st storage.Store, store string, vs serde.Serde[V], kb []byte, v V, ts int64) error {
	vb, err := vs.Serialize(store, v)
	if err != nil {
		return fmt.Errorf("table %s: value: %w", store, err)
	}
	return st.Put(kb, dsl.EncodeTimestamped(ts, vb))
}

// deleteIfPresent deletes a key from a table store, unless it is absent:
// a delete of a key the table never held would only send a tombstone
// nobody needs downstream.
func deleteIfPresent(st storage.Store, kb []byte) error {
	_, found, err := st.Get(kb)
	if err != nil || !found {
		return err
	}
	return st.Delete(kb)
}
