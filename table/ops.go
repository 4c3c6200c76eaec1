package table

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// From reads a topic as a table: each record is the new value of its key, a
// null value deletes it. The table is materialized in a store named by
// Named (give one) with its own changelog.
func From[K, V any](b *stream.Builder, topic string, ks serde.Serde[K], vs serde.Serde[V], opts ...Option) Table[K, V] {
	db := b.Internal()
	o := collect(opts)
	store := materialize(db, o, "TABLE")
	src := dsl.Source(db, store+"-source", []string{topic}, ks, vs, nil)
	if ks == nil {
		db.Fail(fmt.Errorf("table from %s: a key serde is required", topic))
	}
	out := dsl.Then(src, store+"-materialize", []string{store}, ks, vs,
		func(tc topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
			st, err := tc.Store(store)
			if err != nil {
				return nil, err
			}
			forwardOnFlush(tc, store, ks, vs, topic, next)
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				raw := tc.Current()
				if raw == nil || raw.Key == nil {
					return nil // a table cannot hold a record without a key
				}
				if r.Tombstone {
					return st.Delete(raw.Key)
				}
				return st.Put(raw.Key, dsl.EncodeTimestamped(r.Timestamp, raw.Value))
			}), nil
		})
	out.Store = store
	return Table[K, V]{out}
}

// Filter keeps the keys whose value satisfies keep; for the others it
// forwards a delete, so downstream tables drop them too.
func (t Table[K, V]) Filter(keep func(K, V) bool) Table[K, V] {
	in := t.s
	out := dsl.Then(in, in.B.Name("", "KTABLE-FILTER"), nil, in.KeySerde, in.ValueSerde,
		func(_ topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if !r.Tombstone && !keep(r.Key, r.Value) {
					var zero V
					r.Value, r.Tombstone = zero, true
				}
				return next.Receive(r)
			}), nil
		})
	return Table[K, V]{out}
}

// MapValues maps each key's value; deletes pass through.
func MapValues[K, V, V2 any](t Table[K, V], f func(K, V) V2, vs serde.Serde[V2]) Table[K, V2] {
	in := t.s
	out := dsl.Then(in, in.B.Name("", "KTABLE-MAPVALUES"), nil, in.KeySerde, vs,
		func(_ topology.TaskContext, next dsl.Receiver[K, V2]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				o := dsl.Record[K, V2]{Key: r.Key, Timestamp: r.Timestamp, Headers: r.Headers, Tombstone: r.Tombstone}
				if !r.Tombstone {
					o.Value = f(r.Key, r.Value)
				}
				return next.Receive(o)
			}), nil
		})
	return Table[K, V2]{out}
}

// ToStream returns the table's updates as a stream; deletes are tombstones,
// which To writes as null values.
func (t Table[K, V]) ToStream() stream.Stream[K, V] {
	in := t.s
	out := dsl.Then(in, in.B.Name("", "KTABLE-TOSTREAM"), nil, in.KeySerde, in.ValueSerde,
		func(_ topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) { return next, nil })
	return stream.Wrap(out)
}

// StoreName returns the name of the table's store ("" if it has none).
func (t Table[K, V]) StoreName() string { return t.s.Store }

// ErrNotQueryable is returned by Lookup on a table without a store of its
// own (one derived by Filter or MapValues).
var ErrNotQueryable = fmt.Errorf("table: not materialized")

// Lookup returns a key's current value in a running app: the value the
// task owning the key's partition holds, cached updates included.
func Lookup[K, V any](app *stream.App, t Table[K, V], key K) (V, bool, error) {
	var zero V
	store := t.s.Store
	if store == "" {
		return zero, false, fmt.Errorf("%w: query the table it was derived from", ErrNotQueryable)
	}
	kb, err := t.s.KeySerde.Serialize(store, key)
	if err != nil {
		return zero, false, fmt.Errorf("table %s: key: %w", store, err)
	}
	info, err := app.Internal().StoreInfo(store)
	if err != nil {
		return zero, false, err
	}
	st, err := app.Store(store, partition.ForKey(kb, info.Partitions))
	if err != nil {
		return zero, false, err
	}
	b, ok, err := st.Get(kb)
	if err != nil || !ok {
		return zero, false, err
	}
	_, vb, err := dsl.DecodeTimestamped(b)
	if err != nil {
		return zero, false, fmt.Errorf("table %s: %w", store, err)
	}
	v, err := t.s.ValueSerde.Deserialize(store, vb)
	if err != nil {
		return zero, false, fmt.Errorf("table %s: stored value: %w", store, err)
	}
	return v, true, nil
}
