package table

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

func reduce[K, V any](g stream.Grouped[K, V], f func(acc, value V) V, vs serde.Serde[V], opts []Option) Table[K, V] {
	in := g.Internal()
	b := in.B
	o := collect(opts)
	ks := in.KeySerde
	store := materialize(b, o, "REDUCE")
	out := dsl.Then(in, store+"-reduce", []string{store}, ks, vs,
		func(tc topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
			st, err := tc.Store(store)
			if err != nil {
				return nil, err
			}
			forwardOnFlush(tc, store, ks, vs, store, next)
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					return nil
				}
				kb, err := ks.Serialize(store, r.Key)
				if err != nil {
					return fmt.Errorf("reduce %s: key: %w", store, err)
				}
				acc, ts := r.Value, r.Timestamp
				old, ok, err := st.Get(kb)
				if err != nil {
					return err
				}
				if ok {
					ots, vb, err := dsl.DecodeTimestamped(old)
					if err != nil {
						return fmt.Errorf("reduce %s: %w", store, err)
					}
					prev, err := vs.Deserialize(store, vb)
					if err != nil {
						return fmt.Errorf("reduce %s: stored value: %w", store, err)
					}
					acc, ts = f(prev, r.Value), max(ts, ots)
				}
				vb, err := vs.Serialize(store, acc)
				if err != nil {
					return fmt.Errorf("reduce %s: value: %w", store, err)
				}
				return st.Put(kb, dsl.EncodeTimestamped(ts, vb))
			}), nil
		})
	out.Store = store
	return Table[K, V]{out}
}
