package dsl

import "github.com/eddy-streams/eddy/serde"

// Encoder serializes with a serde, encoding into one reused buffer when the
// serde is a serde.Appender. The bytes it returns are valid until its next
// call, which suits the places that copy them at once (a sink's Send, a
// cached store's Put). An Encoder belongs to one task: it is not safe for
// concurrent use.
type Encoder[T any] struct {
	s   serde.Serde[T]
	app serde.Appender[T]
	buf []byte
}

// NewEncoder returns an Encoder for s.
func NewEncoder[T any](s serde.Serde[T]) *Encoder[T] {
	e := &Encoder[T]{s: s}
	if app, ok := s.(serde.Appender[T]); ok {
		// Never nil, even for an empty encoding: nil is a null record.
		e.app, e.buf = app, make([]byte, 0, 64)
	}
	return e
}

// Encode returns v's encoding for topic.
func (e *Encoder[T]) Encode(topic string, v T) ([]byte, error) {
	if e.app == nil {
		return e.s.Serialize(topic, v)
	}
	b, err := e.app.AppendSerialize(e.buf[:0], topic, v)
	if err != nil {
		return nil, err
	}
	e.buf = b
	return b, nil
}

// AppendTo appends v's encoding for topic to dst, for callers that build a
// value around it in a buffer of their own.
func (e *Encoder[T]) AppendTo(dst []byte, topic string, v T) ([]byte, error) {
	if e.app != nil {
		return e.app.AppendSerialize(dst, topic, v)
	}
	b, err := e.s.Serialize(topic, v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
