package table

import (
	"bytes"
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
)

// GlobalTable is a table that every task holds in full: every partition
// of its topic, in one store per app instance. Streams join it on any key
// they compute (JoinGlobal), without co-partitioning or repartitioning.
type GlobalTable[K, V any] struct {
	store string
	ks    serde.Serde[K]
	vs    serde.Serde[V]
}

// StoreName returns the name of the global table's store.
func (g GlobalTable[K, V]) StoreName() string { return g.store }

// Global reads topic as a global table: each record is the new value of
// its key, a null value deletes it, a record without a key is ignored.
// When the app starts, the table is read to the end of the topic before
// any task processes a record; it is then kept up to date by a goroutine
// of its own as records arrive, so a stream record joins the table as far
// as it has been read, which may be ahead of or behind the record's time.
//
// The topic is the table's changelog (it should be compacted): the store
// has none of its own, and a restart with intact local state resumes the
// topic where the store's checkpoint says. Named names the store (default
// "GLOBALTABLE-<topic>"); InMemory keeps it in memory, re-read at each
// start. Records the serdes cannot read go to the app's deserialization
// policy.
func Global[K, V any](b *stream.Builder, topic string, ks serde.Serde[K], vs serde.Serde[V], opts ...Option) GlobalTable[K, V] {
	db := b.Internal()
	o := collect(opts)
	name := o.name
	if name == "" {
		name = "GLOBALTABLE-" + topic
	}
	if ks == nil || vs == nil {
		db.Fail(fmt.Errorf("global table %s: key and value serdes are required", name))
	}
	spec := &topology.GlobalStore{Name: name, Topic: topic, InMemory: o.inMemory,
		Update: func(r *topology.RawRecord) (storage.Mutation, bool, error) {
			if r.Key == nil {
				return storage.Mutation{}, false, nil
			}
			// Read both, so that a poison record meets the policy here
			// and not in every join that would look it up.
			if _, err := ks.Deserialize(topic, r.Key); err != nil {
				return storage.Mutation{}, false, &topology.DeserializeError{Part: "key", Err: err}
			}
			key := bytes.Clone(r.Key)
			if r.Value == nil {
				return storage.Mutation{Key: key, Delete: true}, true, nil
			}
			if _, err := vs.Deserialize(topic, r.Value); err != nil {
				return storage.Mutation{}, false, &topology.DeserializeError{Part: "value", Err: err}
			}
			return storage.Mutation{Key: key, Value: dsl.EncodeTimestamped(r.Timestamp, r.Value)}, true, nil
		}}
	if err := db.Topo.AddGlobal(spec); err != nil {
		db.Fail(err)
	}
	return GlobalTable[K, V]{store: name, ks: ks, vs: vs}
}

// JoinGlobal joins each record of s with the row of gt whose key
// keyMapper computes from the record (an inner join): a record whose key
// gt does not hold produces nothing. The result keeps the record's key,
// timestamp and headers; vs serializes the joined values (nil if the
// result is only written with explicit serdes). As with JoinStream, only
// stream records produce output, and records with a null value are
// dropped (counted by DroppedRecords); records without a key join on the
// key keyMapper gives them. Nothing is repartitioned: every task holds
// all of gt.
func JoinGlobal[K, V, KG, VG, VR any](s stream.Stream[K, V], gt GlobalTable[KG, VG], keyMapper func(K, V) KG, joiner func(key K, value V, tableValue VG) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	return globalJoin(s, gt, keyMapper, false, func(k K, v V, vg VG, _ bool) VR { return joiner(k, v, vg) }, vs, "KSTREAM-GLOBALJOIN", opts)
}

// LeftJoinGlobal is JoinGlobal keeping every record: found tells the
// joiner whether gt holds the computed key (else tableValue is VG's zero
// value).
func LeftJoinGlobal[K, V, KG, VG, VR any](s stream.Stream[K, V], gt GlobalTable[KG, VG], keyMapper func(K, V) KG, joiner func(key K, value V, tableValue VG, found bool) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	return globalJoin(s, gt, keyMapper, true, joiner, vs, "KSTREAM-GLOBALLEFTJOIN", opts)
}

func globalJoin[K, V, KG, VG, VR any](s stream.Stream[K, V], gt GlobalTable[KG, VG], keyMapper func(K, V) KG, left bool, joiner func(K, V, VG, bool) VR, vs serde.Serde[VR], prefix string, opts []Option) stream.Stream[K, VR] {
	in := s.Internal()
	o := collect(opts)
	name := in.B.Name(o.name, prefix)
	out := dsl.Then(in, name, nil, in.KeySerde, vs,
		func(tc topology.TaskContext, next dsl.Receiver[K, VR]) (dsl.Receiver[K, V], error) {
			gs, ok := tc.(topology.GlobalStores)
			if !ok {
				return nil, fmt.Errorf("join %s: the engine runs no global stores", name)
			}
			st, err := gs.GlobalStore(gt.store)
			if err != nil {
				return nil, fmt.Errorf("join %s: %w", name, err)
			}
			dropped := dropCounter(tc, name)
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					dropped.Add(1)
					return nil
				}
				kb, err := gt.ks.Serialize(gt.store, keyMapper(r.Key, r.Value))
				if err != nil {
					return fmt.Errorf("join %s: global table key: %w", name, err)
				}
				vg, _, found, err := storedValue(st, gt.store, gt.vs, kb)
				if err != nil {
					return fmt.Errorf("join %s: %w", name, err)
				}
				if !found && !left {
					return nil
				}
				return next.Receive(dsl.Record[K, VR]{Key: r.Key, Value: joiner(r.Key, r.Value, vg, found), Timestamp: r.Timestamp, Headers: r.Headers})
			}), nil
		})
	return stream.Wrap(out)
}

// LookupGlobal returns a key's current value in a global table of a
// running app (as far as its topic has been read).
func LookupGlobal[K, V any](app *stream.App, gt GlobalTable[K, V], key K) (V, bool, error) {
	var zero V
	kb, err := gt.ks.Serialize(gt.store, key)
	if err != nil {
		return zero, false, fmt.Errorf("global table %s: key: %w", gt.store, err)
	}
	st, err := app.Internal().GlobalStore(gt.store)
	if err != nil {
		return zero, false, err
	}
	v, _, found, err := storedValue(st, gt.store, gt.vs, kb)
	return v, found, err
}
