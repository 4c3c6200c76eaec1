package streamtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// InputTopic pipes typed records into one of the topology's input topics.
type InputTopic[K, V any] struct {
	d     *Driver
	topic string
	ks    serde.Serde[K]
	vs    serde.Serde[V]
}

// Input returns a handle that serializes records with ks and vs and pipes
// them into topic. A nil serde is allowed if the matching half is never
// piped (a nil ks with PipeValue only, for instance).
func Input[K, V any](d *Driver, topic string, ks serde.Serde[K], vs serde.Serde[V]) *InputTopic[K, V] {
	return &InputTopic[K, V]{d: d, topic: topic, ks: ks, vs: vs}
}

// Pipe processes a record with timestamp ts (kept to the millisecond)
// through the whole topology. It returns the error of a record that failed
// under the FailOnError policy (a *stream.ProcessingError), and nil when a
// policy skipped or dead-lettered it.
func (in *InputTopic[K, V]) Pipe(key K, value V, ts time.Time) error {
	return in.PipeAt(key, value, ts.UnixMilli())
}

// PipeAt is Pipe with the timestamp in Unix milliseconds, and headers.
func (in *InputTopic[K, V]) PipeAt(key K, value V, ts int64, headers ...stream.Header) error {
	kb, err := in.key(key)
	if err != nil {
		return err
	}
	vb, err := in.value(value)
	if err != nil {
		return err
	}
	return in.d.pipe(in.topic, kb, vb, ts, headers)
}

// PipeValue processes a record without a key; it lands on partition 0.
func (in *InputTopic[K, V]) PipeValue(value V, ts time.Time, headers ...stream.Header) error {
	vb, err := in.value(value)
	if err != nil {
		return err
	}
	return in.d.pipe(in.topic, nil, vb, ts.UnixMilli(), headers)
}

// PipeTombstone processes a record with a key and a null value: a delete
// for tables read from the topic.
func (in *InputTopic[K, V]) PipeTombstone(key K, ts time.Time, headers ...stream.Header) error {
	kb, err := in.key(key)
	if err != nil {
		return err
	}
	return in.d.pipe(in.topic, kb, nil, ts.UnixMilli(), headers)
}

// PipeRaw processes a record of raw bytes, which no serde checked: the way
// to test what undecodable input (a poison pill) does. A nil key has no
// key, a nil value is a tombstone.
func (in *InputTopic[K, V]) PipeRaw(key, value []byte, ts time.Time, headers ...stream.Header) error {
	return in.d.pipe(in.topic, key, value, ts.UnixMilli(), headers)
}

var errNoSerde = errors.New("streamtest: no serde")

func (in *InputTopic[K, V]) key(k K) ([]byte, error) {
	if in.ks == nil {
		return nil, fmt.Errorf("%w: input %s was made without a key serde", errNoSerde, in.topic)
	}
	b, err := in.ks.Serialize(in.topic, k)
	if err != nil {
		return nil, fmt.Errorf("streamtest: input %s: key: %w", in.topic, err)
	}
	return b, nil
}

func (in *InputTopic[K, V]) value(v V) ([]byte, error) {
	if in.vs == nil {
		return nil, fmt.Errorf("%w: input %s was made without a value serde", errNoSerde, in.topic)
	}
	b, err := in.vs.Serialize(in.topic, v)
	if err != nil {
		return nil, fmt.Errorf("streamtest: input %s: value: %w", in.topic, err)
	}
	return b, nil
}
