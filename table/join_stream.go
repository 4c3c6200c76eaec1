package table

import (
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// ErrNotMaterialized is reported (by Builder.Err and stream.NewApp) for a
// join whose table has no store of its own to look values up in: a table
// derived by Filter or MapValues. Join the table it was derived from and
// filter or map the result, or aggregate into a table of its own.
var ErrNotMaterialized = errors.New("table: the table has no store to join against")

// JoinStream joins each record of s with the value t holds for the
// record's key when the record is processed (an inner join): a record
// whose key t does not hold produces nothing. The result keeps the
// record's key, timestamp and headers; vs serializes the joined values
// (nil if the result is only written with explicit serdes).
//
// Only stream records produce output: an update of t changes what later
// records see, and nothing else. Records are processed in timestamp order
// across s and t's topics, so a record sees the table as of its own time
// as far as the buffered input allows. Records with a null value, or
// without a key, cannot join and are dropped (counted by DroppedRecords).
//
// t must have a store (From, Count, Reduce, Aggregate, joins); s and t must
// be co-partitioned — the app refuses to start otherwise, naming both
// topics and their partition counts. If an operator may have changed the
// keys of s (Map, SelectKey, FlatMap), s first goes through a repartition
// topic "<app id>-<name>-repartition" with t's partition count, named after
// Named: name the join.
func JoinStream[K, V, VT, VR any](s stream.Stream[K, V], t Table[K, VT], joiner func(key K, value V, tableValue VT) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	return streamTableJoin(s, t, false, func(k K, v V, vt VT, _ bool) VR { return joiner(k, v, vt) }, vs, "KSTREAM-JOIN", opts)
}

// LeftJoinStream is JoinStream, except that a record whose key t does not
// hold joins too: found tells the joiner whether tableValue is t's (else
// it is VT's zero value). As in Kafka Streams since 3.7, a record without
// a key joins as a missing key instead of being dropped; records with a
// null value are still dropped.
func LeftJoinStream[K, V, VT, VR any](s stream.Stream[K, V], t Table[K, VT], joiner func(key K, value V, tableValue VT, found bool) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	return streamTableJoin(s, t, true, joiner, vs, "KSTREAM-LEFTJOIN", opts)
}

func streamTableJoin[K, V, VT, VR any](s stream.Stream[K, V], t Table[K, VT], left bool, joiner func(K, V, VT, bool) VR, vs serde.Serde[VR], prefix string, opts []Option) stream.Stream[K, VR] {
	in := s.Internal()
	b := in.B
	o := collect(opts)
	name := b.Name(o.name, prefix)
	store := t.s.Store
	tks, tvs := t.s.KeySerde, t.s.ValueSerde
	var stores []string
	switch {
	case store == "":
		b.Fail(fmt.Errorf("join %s: %w", name, ErrNotMaterialized))
	case tks == nil || tvs == nil:
		b.Fail(fmt.Errorf("join %s: table %s has no key or value serde", name, store))
	default:
		stores = []string{store}
	}
	if in.KeyChanged {
		// Records must reach the task holding their key's table
		// partition: write them through a topic sized like the table's.
		in = dsl.Repartition(in, name, topology.PartitionsOfReader)
	}
	sources := in.Node.UpstreamTopics()
	out := dsl.Then(in, name, stores, in.KeySerde, vs,
		func(tc topology.TaskContext, next dsl.Receiver[K, VR]) (dsl.Receiver[K, V], error) {
			if len(stores) == 0 {
				return nil, fmt.Errorf("join %s: %w", name, ErrNotMaterialized)
			}
			st, err := tc.Store(store)
			if err != nil {
				return nil, err
			}
			dropped := dropCounter(tc, name)
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				// A null key shows only on the input record; the current
				// record of another topic (a cache eviction forwarding a
				// table's updates) says nothing about this one.
				raw := tc.Current()
				keyless := raw != nil && raw.Key == nil && sources[raw.Topic]
				if r.Tombstone || (keyless && !left) {
					dropped.Add(1)
					return nil
				}
				var vt VT
				found := false
				if !keyless {
					kb, err := tks.Serialize(store, r.Key)
					if err != nil {
						return fmt.Errorf("join %s: key: %w", name, err)
					}
					if vt, _, found, err = storedValue(st, store, tvs, kb); err != nil {
						return fmt.Errorf("join %s: %w", name, err)
					}
				}
				if !found && !left {
					return nil
				}
				return next.Receive(dsl.Record[K, VR]{Key: r.Key, Value: joiner(r.Key, r.Value, vt, found), Timestamp: r.Timestamp, Headers: r.Headers})
			}), nil
		})
	return stream.Wrap(out)
}
