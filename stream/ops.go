package stream

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
)

// KeyValue is a key and a value, for FlatMap's results.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// Filter keeps the records for which keep returns true.
func (s Stream[K, V]) Filter(keep func(K, V) bool, opts ...Option) Stream[K, V] {
	return s.filter(keep, true, "FILTER", opts)
}

// FilterNot drops the records for which drop returns true.
func (s Stream[K, V]) FilterNot(drop func(K, V) bool, opts ...Option) Stream[K, V] {
	return s.filter(drop, false, "FILTER", opts)
}

func (s Stream[K, V]) filter(pred func(K, V) bool, want bool, prefix string, opts []Option) Stream[K, V] {
	o := collect(opts)
	in := s.s
	out := dsl.Then(in, in.B.Name(o.name, prefix), nil, in.KeySerde, in.ValueSerde,
		func(_ topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone || pred(r.Key, r.Value) == want {
					return next.Receive(r)
				}
				return nil
			}), nil
		})
	out.KeyChanged = in.KeyChanged
	return Stream[K, V]{out}
}

// Peek calls f for each record and passes the record on unchanged.
func (s Stream[K, V]) Peek(f func(K, V), opts ...Option) Stream[K, V] {
	o := collect(opts)
	in := s.s
	out := dsl.Then(in, in.B.Name(o.name, "PEEK"), nil, in.KeySerde, in.ValueSerde,
		func(_ topology.TaskContext, next dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if !r.Tombstone {
					f(r.Key, r.Value)
				}
				return next.Receive(r)
			}), nil
		})
	return Stream[K, V]{out}
}

// ForEach calls f for each record; the stream ends there.
func (s Stream[K, V]) ForEach(f func(K, V), opts ...Option) {
	s.Peek(f, append(opts, defaultName(s, "FOREACH"))...)
}

func defaultName[K, V any](s Stream[K, V], prefix string) Option {
	return func(o *options) {
		if o.name == "" {
			o.name = s.s.B.Name("", prefix)
		}
	}
}

// Merge combines this stream with others of the same types.
func (s Stream[K, V]) Merge(others ...Stream[K, V]) Stream[K, V] {
	in := s.s
	node := &topology.Node{Name: in.B.Name("", "MERGE"), Kind: topology.Processor}
	parents := []*topology.Node{in.Node}
	for _, o := range others {
		parents = append(parents, o.s.Node)
	}
	in.B.Add(node, parents...)
	out := &dsl.Stream[K, V]{B: in.B, Node: node, KeySerde: in.KeySerde, ValueSerde: in.ValueSerde, KeyChanged: in.KeyChanged}
	for _, p := range append([]Stream[K, V]{s}, others...) {
		out.KeyChanged = out.KeyChanged || p.s.KeyChanged
		p.s.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, V], error) { return out.Build(tc) })
	}
	return Stream[K, V]{out}
}

// To writes the stream to a topic. With no serdes given (nil), the stream's
// own are used; the partition is Kafka's default for the serialized key
// unless WithPartitioner is given.
func (s Stream[K, V]) To(topic string, ks serde.Serde[K], vs serde.Serde[V], opts ...ToOption[K, V]) {
	var o toOptions[K, V]
	for _, f := range opts {
		f(&o)
	}
	dsl.Sink(s.s, s.s.B.Name(o.name, "SINK"), topic, ks, vs, o.partitioner)
}

// ToOption configures To.
type ToOption[K, V any] func(*toOptions[K, V])

type toOptions[K, V any] struct {
	name        string
	partitioner dsl.Partitioner[K, V]
}

// WithPartitioner chooses the output partition of each record out of n.
func WithPartitioner[K, V any](f func(key K, value V, n int32) int32) ToOption[K, V] {
	return func(o *toOptions[K, V]) { o.partitioner = f }
}

// SinkNamed names a sink.
func SinkNamed[K, V any](name string) ToOption[K, V] {
	return func(o *toOptions[K, V]) { o.name = name }
}

// Map turns each record into a new key and value. The new stream has no
// serdes unless given with Serdes; grouping it repartitions.
func Map[K, V, K2, V2 any](s Stream[K, V], f func(K, V) (K2, V2), opts ...SerdeOption[K2, V2]) Stream[K2, V2] {
	so := collectSerdes(opts)
	in := s.s
	out := dsl.Then(in, in.B.Name(so.name, "MAP"), nil, so.ks, so.vs,
		func(_ topology.TaskContext, next dsl.Receiver[K2, V2]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					return nil
				}
				k, v := f(r.Key, r.Value)
				return next.Receive(dsl.Record[K2, V2]{Key: k, Value: v, Timestamp: r.Timestamp, Headers: r.Headers})
			}), nil
		})
	out.KeyChanged = true
	return Stream[K2, V2]{out}
}

// MapValues turns each value into a new one, keeping keys (and
// partitioning). Tombstones pass through.
func MapValues[K, V, V2 any](s Stream[K, V], f func(K, V) V2, opts ...SerdeOption[K, V2]) Stream[K, V2] {
	so := collectSerdes(opts)
	in := s.s
	ks := so.ks
	if ks == nil {
		ks = in.KeySerde
	}
	out := dsl.Then(in, in.B.Name(so.name, "MAPVALUES"), nil, ks, so.vs,
		func(_ topology.TaskContext, next dsl.Receiver[K, V2]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				o := dsl.Record[K, V2]{Key: r.Key, Timestamp: r.Timestamp, Headers: r.Headers, Tombstone: r.Tombstone}
				if !r.Tombstone {
					o.Value = f(r.Key, r.Value)
				}
				return next.Receive(o)
			}), nil
		})
	out.KeyChanged = in.KeyChanged
	return Stream[K, V2]{out}
}

// SelectKey gives each record a new key computed from it.
func SelectKey[K, V, K2 any](s Stream[K, V], f func(K, V) K2, opts ...SerdeOption[K2, V]) Stream[K2, V] {
	so := collectSerdes(opts)
	if so.vs == nil {
		so.vs = s.s.ValueSerde
	}
	in := s.s
	out := dsl.Then(in, in.B.Name(so.name, "SELECTKEY"), nil, so.ks, so.vs,
		func(_ topology.TaskContext, next dsl.Receiver[K2, V]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					return nil
				}
				return next.Receive(dsl.Record[K2, V]{Key: f(r.Key, r.Value), Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers})
			}), nil
		})
	out.KeyChanged = true
	return Stream[K2, V]{out}
}

// FlatMap turns each record into any number of records.
func FlatMap[K, V, K2, V2 any](s Stream[K, V], f func(K, V) []KeyValue[K2, V2], opts ...SerdeOption[K2, V2]) Stream[K2, V2] {
	so := collectSerdes(opts)
	in := s.s
	out := dsl.Then(in, in.B.Name(so.name, "FLATMAP"), nil, so.ks, so.vs,
		func(_ topology.TaskContext, next dsl.Receiver[K2, V2]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					return nil
				}
				for _, kv := range f(r.Key, r.Value) {
					if err := next.Receive(dsl.Record[K2, V2]{Key: kv.Key, Value: kv.Value, Timestamp: r.Timestamp, Headers: r.Headers}); err != nil {
						return err
					}
				}
				return nil
			}), nil
		})
	out.KeyChanged = true
	return Stream[K2, V2]{out}
}

// FlatMapValues turns each value into any number of values, keeping the key.
func FlatMapValues[K, V, V2 any](s Stream[K, V], f func(K, V) []V2, opts ...SerdeOption[K, V2]) Stream[K, V2] {
	so := collectSerdes(opts)
	if so.ks == nil {
		so.ks = s.s.KeySerde
	}
	in := s.s
	out := dsl.Then(in, in.B.Name(so.name, "FLATMAPVALUES"), nil, so.ks, so.vs,
		func(_ topology.TaskContext, next dsl.Receiver[K, V2]) (dsl.Receiver[K, V], error) {
			return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
				if r.Tombstone {
					return nil
				}
				for _, v := range f(r.Key, r.Value) {
					if err := next.Receive(dsl.Record[K, V2]{Key: r.Key, Value: v, Timestamp: r.Timestamp, Headers: r.Headers}); err != nil {
						return err
					}
				}
				return nil
			}), nil
		})
	out.KeyChanged = in.KeyChanged
	return Stream[K, V2]{out}
}

// Split routes each record to the first branch whose predicate accepts it;
// records no predicate accepts go to the last stream returned (the default
// branch). It returns len(preds)+1 streams.
func (s Stream[K, V]) Split(preds ...func(K, V) bool) []Stream[K, V] {
	in := s.s
	name := in.B.Name("", "BRANCH")
	node := &topology.Node{Name: name, Kind: topology.Processor}
	in.B.Add(node, in.Node)
	outs := make([]*dsl.Stream[K, V], len(preds)+1)
	res := make([]Stream[K, V], len(outs))
	for i := range outs {
		bn := &topology.Node{Name: fmt.Sprintf("%s-%d", name, i), Kind: topology.Processor}
		in.B.Add(bn, node)
		outs[i] = &dsl.Stream[K, V]{B: in.B, Node: bn, KeySerde: in.KeySerde, ValueSerde: in.ValueSerde, KeyChanged: in.KeyChanged}
		res[i] = Stream[K, V]{outs[i]}
	}
	in.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, V], error) {
		nexts := make([]dsl.Receiver[K, V], len(outs))
		for i, o := range outs {
			r, err := o.Build(tc)
			if err != nil {
				return nil, err
			}
			nexts[i] = r
		}
		return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
			if !r.Tombstone {
				for i, p := range preds {
					if p(r.Key, r.Value) {
						return nexts[i].Receive(r)
					}
				}
			}
			return nexts[len(preds)].Receive(r)
		}), nil
	})
	return res
}

// Repartition writes the stream through an internal topic so that records
// are partitioned by their current key; Named decides the topic's name.
func (s Stream[K, V]) Repartition(opts ...Option) Stream[K, V] {
	o := collect(opts)
	out := dsl.Repartition(s.s, s.s.B.Name(o.name, "REPARTITION"), o.partitions)
	return Stream[K, V]{out}
}

// SerdeOption gives the serdes (and optionally the name) of an operation
// that changes types.
type SerdeOption[K, V any] func(*serdeOptions[K, V])

type serdeOptions[K, V any] struct {
	ks   serde.Serde[K]
	vs   serde.Serde[V]
	name string
}

func collectSerdes[K, V any](opts []SerdeOption[K, V]) serdeOptions[K, V] {
	var o serdeOptions[K, V]
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Serdes sets the key and value serdes of the operation's output (either may
// be nil to keep or leave it unknown).
func Serdes[K, V any](ks serde.Serde[K], vs serde.Serde[V]) SerdeOption[K, V] {
	return func(o *serdeOptions[K, V]) { o.ks, o.vs = ks, vs }
}

// As names a type-changing operation.
func As[K, V any](name string) SerdeOption[K, V] {
	return func(o *serdeOptions[K, V]) { o.name = name }
}
