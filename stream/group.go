package stream

import (
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
)

// Grouped is a stream grouped by key, ready to aggregate into a table
// (table.Count, table.Reduce, table.Aggregate, window's functions). All
// records of one key are in the same partition.
type Grouped[K, V any] struct{ s *dsl.Stream[K, V] }

// Internal is for eddy's own DSL packages; its result is not part of the API.
func (g Grouped[K, V]) Internal() *dsl.Stream[K, V] { return g.s }

// GroupByKey groups the stream by its current key. If an earlier operator
// may have changed keys (Map, SelectKey, FlatMap), the records first go
// through a repartition topic named after Named (give a name: it is the
// topic's name, and must stay stable across versions).
func (s Stream[K, V]) GroupByKey(opts ...Option) Grouped[K, V] {
	if !s.s.KeyChanged {
		return Grouped[K, V](s)
	}
	o := collect(opts)
	return Grouped[K, V]{dsl.Repartition(s.s, s.s.B.Name(o.name, "GROUPBYKEY"), o.partitions)}
}

// GroupBy groups the stream by a key computed from each record, through a
// repartition topic "<app id>-<name>-repartition". ks serializes the new
// key; the value keeps the stream's value serde, which must be known.
func GroupBy[K, V, K2 any](s Stream[K, V], key func(K, V) K2, ks serde.Serde[K2], opts ...Option) Grouped[K2, V] {
	o := collect(opts)
	name := s.s.B.Name(o.name, "GROUPBY")
	rekeyed := SelectKey(s, key, Serdes(ks, s.s.ValueSerde), As[K2, V](name+"-key"))
	return Grouped[K2, V]{dsl.Repartition(rekeyed.s, name, o.partitions)}
}
