package stream

import (
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
)

// Builder collects a topology. Its name is the application id: it prefixes
// the consumer group, the internal topics and the state directory, so it
// must stay the same across versions of an app.
type Builder struct{ b *dsl.Builder }

// NewBuilder starts a topology for the application id appID.
func NewBuilder(appID string) *Builder { return &Builder{dsl.NewBuilder(appID)} }

// Describe returns the topology as text, one block per sub-topology.
func (b *Builder) Describe() string { return b.b.Topo.Describe() }

// DOT returns the topology as a Graphviz digraph.
func (b *Builder) DOT() string { return b.b.Topo.DOT() }

// Err returns the errors found while building (a missing serde, two nodes
// with one name...). NewApp returns them too.
func (b *Builder) Err() error { return b.b.Err() }

// Internal is for eddy's own DSL packages (table, window); its result is
// not part of the API.
func (b *Builder) Internal() *dsl.Builder { return b.b }

// Stream is a typed, unbounded stream of keyed records.
type Stream[K, V any] struct{ s *dsl.Stream[K, V] }

// Internal is for eddy's own DSL packages (table, window); its result is
// not part of the API.
func (s Stream[K, V]) Internal() *dsl.Stream[K, V] { return s.s }

// Wrap is for eddy's own DSL packages: it turns their internal stream into
// a Stream.
func Wrap[K, V any](s *dsl.Stream[K, V]) Stream[K, V] { return Stream[K, V]{s} }

// Option configures one DSL operation.
type Option func(*options)

type options struct {
	name       string
	timestamps dsl.TimestampExtractor
	partitions int32
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Named gives an operation an explicit name. Names of operations that create
// internal topics or stores decide those topics' and stores' names: give
// them, so that an upgraded app finds its state again.
func Named(name string) Option { return func(o *options) { o.name = name } }

// WithTimestamps sets a source's timestamp extractor (default: the record's
// own timestamp).
func WithTimestamps(f func(topic string, partition int32, offset, recordTimestamp int64, key, value []byte) int64) Option {
	return func(o *options) {
		o.timestamps = func(r *topology.RawRecord) int64 {
			return f(r.Topic, r.Partition, r.Offset, r.Timestamp, r.Key, r.Value)
		}
	}
}

// WithPartitions sets the partition count of a repartition topic (default:
// as many as the input topics of the sub-topology writing it).
func WithPartitions(n int32) Option { return func(o *options) { o.partitions = n } }

// From reads topics as a stream of K, V records. A record with a null key
// gets K's zero value; one with a null value is a tombstone, which stateless
// operators pass on without calling user functions.
func From[K, V any](b *Builder, topic string, ks serde.Serde[K], vs serde.Serde[V], opts ...Option) Stream[K, V] {
	return FromTopics(b, []string{topic}, ks, vs, opts...)
}

// FromTopics reads several topics as one stream.
func FromTopics[K, V any](b *Builder, topics []string, ks serde.Serde[K], vs serde.Serde[V], opts ...Option) Stream[K, V] {
	o := collect(opts)
	return Stream[K, V]{dsl.Source(b.b, b.b.Name(o.name, "SOURCE"), topics, ks, vs, o.timestamps)}
}
