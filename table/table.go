package table

import (
	"fmt"
	"strings"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
)

// Table is the latest value of each key.
type Table[K, V any] struct{ s *dsl.Stream[K, V] }

// Internal is for eddy's own DSL packages; its result is not part of the API.
func (t Table[K, V]) Internal() *dsl.Stream[K, V] { return t.s }

// Wrap is for eddy's own DSL packages.
func Wrap[K, V any](s *dsl.Stream[K, V]) Table[K, V] { return Table[K, V]{s} }

// Option configures a table operation.
type Option func(*options)

type options struct {
	name     string
	inMemory bool
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Named names the operation and its store; the changelog topic is
// "<app id>-<name>-changelog". Name stores explicitly: generated names
// change when the topology does, and a renamed store starts empty.
func Named(name string) Option { return func(o *options) { o.name = name } }

// InMemory keeps the table's store in memory (rebuilt from its changelog at
// each start) instead of LevelDB.
func InMemory() Option { return func(o *options) { o.inMemory = true } }

// materialize declares a changelogged store for a table operation.
func materialize(b *dsl.Builder, o options, prefix string) string {
	name := b.Name(o.name, prefix)
	if err := b.Topo.AddStore(&topology.StoreSpec{Name: name, Changelog: b.InternalTopic(name, "changelog"), InMemory: o.inMemory}); err != nil {
		b.Fail(err)
	}
	return name
}

// forwardOnFlush sends a store's flushed entries downstream as table
// updates (tombstones for deletes).
func forwardOnFlush[K, V any](tc topology.TaskContext, store string, ks serde.Serde[K], vs serde.Serde[V], topic string, next dsl.Receiver[K, V]) {
	tc.OnFlush(store, func(entries []storage.Mutation) error {
		for _, m := range entries {
			k, err := ks.Deserialize(topic, m.Key)
			if err != nil {
				return fmt.Errorf("table %s: stored key: %w", store, err)
			}
			r := dsl.Record[K, V]{Key: k, Tombstone: m.Delete, Timestamp: tc.StreamTime()}
			if !m.Delete {
				ts, vb, err := dsl.DecodeTimestamped(m.Value)
				if err != nil {
					return fmt.Errorf("table %s: %w", store, err)
				}
				if r.Value, err = vs.Deserialize(topic, vb); err != nil {
					return fmt.Errorf("table %s: stored value: %w", store, err)
				}
				r.Timestamp = ts
			}
			if err := next.Receive(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Aggregate folds each key's records into an accumulator, starting from
// init(); the table holds each key's current accumulator. as serializes it.
func Aggregate[K, V, A any](g stream.Grouped[K, V], init func() A, agg func(key K, value V, acc A) A, as serde.Serde[A], opts ...Option) Table[K, A] {
	return fold(g, "AGGREGATE", as, opts, func(k K, v V, acc A, found bool) A {
		if !found {
			acc = init()
		}
		return agg(k, v, acc)
	})
}

// fold is the read-modify-write behind Aggregate and Reduce: step gets the
// key's stored accumulator (found is false for a new key) and returns the
// new one, stored with the larger of the two timestamps.
func fold[K, V, A any](g stream.Grouped[K, V], prefix string, as serde.Serde[A], opts []Option, step func(k K, v V, acc A, found bool) A) Table[K, A] {
	in := g.Internal()
	b := in.B
	o := collect(opts)
	ks := in.KeySerde
	if ks == nil {
		b.Fail(fmt.Errorf("%s %s: the grouped stream has no key serde", strings.ToLower(prefix), o.name))
	}
	if as == nil {
		b.Fail(fmt.Errorf("%s %s: no serde for the table's values", strings.ToLower(prefix), o.name))
	}
	store := materialize(b, o, prefix)
	op := strings.ToLower(prefix)
	out := dsl.Then(in, store+"-"+op, []string{store}, ks, as,
		func(tc topology.TaskContext, next dsl.Receiver[K, A]) (dsl.Receiver[K, V], error) {
			st, err := tc.Store(store)
			if err != nil {
				return nil, err
			}
			forwardOnFlush(tc, store, ks, as, store, next)
			return newFolder(st, store, op, ks, as, step), nil
		})
	out.Store = store
	return Table[K, A]{out}
}

// Count counts each key's records.
func Count[K, V any](g stream.Grouped[K, V], opts ...Option) Table[K, int64] {
	return Aggregate(g, func() int64 { return 0 }, func(_ K, _ V, n int64) int64 { return n + 1 }, serde.Int64, opts...)
}

// Reduce combines each key's values with f, the first value as it is.
func Reduce[K, V any](g stream.Grouped[K, V], f func(acc, value V) V, opts ...Option) Table[K, V] {
	return fold(g, "REDUCE", g.Internal().ValueSerde, opts, func(_ K, v V, acc V, found bool) V {
		if !found {
			return v
		}
		return f(acc, v)
	})
}
