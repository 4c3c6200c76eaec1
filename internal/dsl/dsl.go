package dsl

import (
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
)

// Builder collects a topology as the DSL calls come in. DSL functions do not
// return errors (they chain); the first error is kept and reported by Err,
// which the app checks before it runs.
type Builder struct {
	AppID string
	Topo  *topology.Topology
	errs  []error
}

// NewBuilder starts a topology for an application id.
func NewBuilder(appID string) *Builder {
	return &Builder{AppID: appID, Topo: topology.New(appID)}
}

// Fail records a build error.
func (b *Builder) Fail(err error) { b.errs = append(b.errs, err) }

// Err returns every build error, joined.
func (b *Builder) Err() error { return errors.Join(b.errs...) }

// Add adds a node, recording a failure.
func (b *Builder) Add(n *topology.Node, parents ...*topology.Node) {
	if err := b.Topo.Add(n, parents...); err != nil {
		b.Fail(err)
	}
}

// Name returns name if given, else a generated one with prefix.
func (b *Builder) Name(name, prefix string) string {
	if name != "" {
		return name
	}
	return b.Topo.UniqueName(prefix)
}

// InternalTopic returns the name of an internal topic: the application id,
// the operator's name and a suffix, as Kafka Streams names them.
func (b *Builder) InternalTopic(name, suffix string) string {
	return b.AppID + "-" + name + "-" + suffix
}

// Record is a typed record flowing between processors. A tombstone carries
// a key and no value (a delete, for tables and compacted topics).
type Record[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64
	Headers   []batch.RecordHeader
	Tombstone bool
}

// Receiver is a typed processor's input.
type Receiver[K, V any] interface {
	Receive(r Record[K, V]) error
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc[K, V any] func(r Record[K, V]) error

// Receive calls f.
func (f ReceiverFunc[K, V]) Receive(r Record[K, V]) error { return f(r) }

type fanout[K, V any] []Receiver[K, V]

func (f fanout[K, V]) Receive(r Record[K, V]) error {
	for _, c := range f {
		if err := c.Receive(r); err != nil {
			return err
		}
	}
	return nil
}

type discard[K, V any] struct{}

func (discard[K, V]) Receive(Record[K, V]) error { return nil }

// ChildFactory builds one downstream receiver of a stream for a task.
type ChildFactory[K, V any] func(tc topology.TaskContext) (Receiver[K, V], error)

// Stream is a typed stream (or a table's update flow) under construction.
type Stream[K, V any] struct {
	B    *Builder
	Node *topology.Node
	// KeySerde and ValueSerde are what the stream's records can be written
	// with; nil when an operator changed the type and no serde was given.
	KeySerde   serde.Serde[K]
	ValueSerde serde.Serde[V]
	// KeyChanged is set once an operator may have changed keys since the
	// source, so grouping by key must repartition first.
	KeyChanged bool
	// Store is the materialized store behind a table, if any.
	Store string

	children []ChildFactory[K, V]
}

// Attach adds a downstream receiver factory.
func (s *Stream[K, V]) Attach(f ChildFactory[K, V]) { s.children = append(s.children, f) }

// Build builds the receivers below s for one task, once per task.
func (s *Stream[K, V]) Build(tc topology.TaskContext) (Receiver[K, V], error) {
	r, err := tc.Memo(s, func() (any, error) {
		switch len(s.children) {
		case 0:
			return Receiver[K, V](discard[K, V]{}), nil
		case 1:
			return s.children[0](tc)
		}
		out := make(fanout[K, V], 0, len(s.children))
		for _, f := range s.children {
			c, err := f(tc)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return Receiver[K, V](out), nil
	})
	if err != nil {
		return nil, err
	}
	return r.(Receiver[K, V]), nil
}

// Then adds a processor node below s and returns its output stream. mk
// builds the processor for a task given its already built successors.
func Then[K, V, K2, V2 any](s *Stream[K, V], name string, stores []string, ks serde.Serde[K2], vs serde.Serde[V2],
	mk func(tc topology.TaskContext, next Receiver[K2, V2]) (Receiver[K, V], error)) *Stream[K2, V2] {
	node := &topology.Node{Name: name, Kind: topology.Processor, Stores: stores}
	s.B.Add(node, s.Node)
	child := &Stream[K2, V2]{B: s.B, Node: node, KeySerde: ks, ValueSerde: vs, KeyChanged: s.KeyChanged}
	s.Attach(func(tc topology.TaskContext) (Receiver[K, V], error) {
		next, err := child.Build(tc)
		if err != nil {
			return nil, err
		}
		return mk(tc, next)
	})
	return child
}

// TimestampExtractor picks a record's event time; the default is the
// record's own timestamp.
type TimestampExtractor func(r *topology.RawRecord) int64

// Source adds a source node reading topics and returns its stream.
func Source[K, V any](b *Builder, name string, topics []string, ks serde.Serde[K], vs serde.Serde[V], ts TimestampExtractor) *Stream[K, V] {
	node := &topology.Node{Name: name, Kind: topology.Source, Topics: topics}
	s := &Stream[K, V]{B: b, Node: node, KeySerde: ks, ValueSerde: vs}
	if len(topics) == 0 {
		b.Fail(fmt.Errorf("source %s: no topics", name))
	}
	if vs == nil {
		b.Fail(fmt.Errorf("source %s: a value serde is required", name))
	}
	node.Build = func(tc topology.TaskContext) (topology.SourceFunc, error) {
		next, err := s.Build(tc)
		if err != nil {
			return nil, err
		}
		return func(r *topology.RawRecord) error {
			rec := Record[K, V]{Timestamp: r.Timestamp, Headers: r.Headers}
			if ts != nil {
				rec.Timestamp = ts(r)
			}
			if r.Key != nil && ks != nil {
				k, err := ks.Deserialize(r.Topic, r.Key)
				if err != nil {
					return &topology.DeserializeError{Part: "key", Err: err}
				}
				rec.Key = k
			}
			if r.Value == nil {
				rec.Tombstone = true
			} else {
				v, err := vs.Deserialize(r.Topic, r.Value)
				if err != nil {
					return &topology.DeserializeError{Part: "value", Err: err}
				}
				rec.Value = v
			}
			return next.Receive(rec)
		}, nil
	}
	b.Add(node)
	return s
}

// Partitioner chooses an output partition for a record, out of n.
type Partitioner[K, V any] func(key K, value V, n int32) int32

// Sink writes the stream to a topic with the given serdes (the stream's own
// when nil). Without a partitioner the partition comes from the serialized
// key (Kafka's murmur2 default).
func Sink[K, V any](s *Stream[K, V], name, topic string, ks serde.Serde[K], vs serde.Serde[V], part Partitioner[K, V]) *topology.Node {
	if ks == nil {
		ks = s.KeySerde
	}
	if vs == nil {
		vs = s.ValueSerde
	}
	node := &topology.Node{Name: name, Kind: topology.Sink, Topics: []string{topic}}
	s.B.Add(node, s.Node)
	if vs == nil {
		s.B.Fail(fmt.Errorf("sink %s to %s: the stream's value type changed and no value serde was given", name, topic))
		return node
	}
	s.Attach(func(tc topology.TaskContext) (Receiver[K, V], error) {
		// Send copies the bytes, so each task encodes into buffers of its own.
		var kenc *Encoder[K]
		if ks != nil {
			kenc = NewEncoder(ks)
		}
		venc := NewEncoder(vs)
		return ReceiverFunc[K, V](func(r Record[K, V]) error {
			var kb, vb []byte
			var err error
			if kenc != nil {
				if kb, err = kenc.Encode(topic, r.Key); err != nil {
					return fmt.Errorf("sink %s: key: %w", name, err)
				}
			}
			if !r.Tombstone {
				if vb, err = venc.Encode(topic, r.Value); err != nil {
					return fmt.Errorf("sink %s: value: %w", name, err)
				}
			}
			p := int32(-1)
			if part != nil {
				n, err := tc.Partitions(topic)
				if err != nil {
					return err
				}
				p = part(r.Key, r.Value, n)
			}
			return tc.Send(topic, p, kb, vb, r.Timestamp, r.Headers)
		}), nil
	})
	return node
}

// Repartition writes s through an internal topic named after name, so that
// records land on the partition of their (new) key, and returns the stream
// read back from it, which starts a new sub-topology.
func Repartition[K, V any](s *Stream[K, V], name string, partitions int32) *Stream[K, V] {
	topic := s.B.InternalTopic(name, "repartition")
	if s.KeySerde == nil || s.ValueSerde == nil {
		s.B.Fail(fmt.Errorf("repartition %s: key and value serdes are needed to write %s; give them where the types changed", name, topic))
	}
	s.B.Topo.InternalTopics[topic] = &topology.InternalTopic{Name: topic, Partitions: partitions, Repartition: true,
		Configs: map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}}
	Sink(s, name+"-sink", topic, nil, nil, nil)
	out := Source(s.B, name+"-source", []string{topic}, s.KeySerde, s.ValueSerde, nil)
	return out
}
