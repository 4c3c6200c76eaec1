package serde

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Proto returns a serde for protobuf messages of type T, usually a pointer
// to a generated message struct. newMessage returns an empty message for
// Deserialize to fill:
//
//	serde.Proto(func() *pb.Click { return new(pb.Click) })
//
// Serialize uses deterministic marshaling (map entries sorted by key), so an
// equal message always gives equal bytes, which keyed partitioning and log
// compaction rely on when messages are used as keys. An empty message
// encodes to an empty, non-nil slice.
//
// The payload is bare protobuf, without the magic byte and schema id that
// schema-registry serializers prepend. Deserialize copies what it keeps
// (protobuf's default), keeps unknown fields, and wraps [ErrDeserialize] when
// data is not a valid encoding of T or newMessage is nil or returns a nil
// message.
func Proto[T proto.Message](newMessage func() T) Serde[T] {
	return protoSerde[T]{newMessage: newMessage}
}

type protoSerde[T proto.Message] struct {
	newMessage func() T
}

func (protoSerde[T]) Serialize(topic string, v T) ([]byte, error) {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: topic %q: protobuf %s: %w", ErrSerialize, topic, messageName(v), err)
	}
	if data == nil {
		// An empty message marshals to nil, which the engine would write as a
		// null value.
		data = []byte{}
	}
	return data, nil
}

func (s protoSerde[T]) Deserialize(topic string, data []byte) (T, error) {
	var zero T
	if s.newMessage == nil {
		return zero, fmt.Errorf("%w: topic %q: Proto was given no newMessage function", ErrDeserialize, topic)
	}
	m := s.newMessage()
	if !isUsable(m) {
		return zero, fmt.Errorf("%w: topic %q: newMessage returned a nil message", ErrDeserialize, topic)
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return zero, fmt.Errorf("%w: topic %q: protobuf %s: %w", ErrDeserialize, topic, messageName(m), err)
	}
	return m, nil
}

// isUsable reports whether m can be unmarshaled into: neither a nil
// interface nor a typed nil pointer.
func isUsable(m proto.Message) bool {
	return m != nil && m.ProtoReflect().IsValid()
}

func messageName(m proto.Message) string {
	if m == nil {
		return "<nil>"
	}
	return string(m.ProtoReflect().Descriptor().FullName())
}
