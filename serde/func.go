package serde

import "fmt"

// Func returns a serde built from two functions, for formats this package
// does not provide. Their errors are wrapped with [ErrSerialize] or
// [ErrDeserialize] and the topic, so errors.Is and errors.As still find them.
//
// Either function may be nil when the serde is only used in one direction
// (a deserializer for a topic that is only read); calling the missing
// direction returns an error rather than panicking.
//
// de must not keep data after it returns: the engine may reuse that memory
// (see the package documentation). ser should return a non-nil slice unless
// it means to write a null record.
func Func[T any](ser func(T) ([]byte, error), de func([]byte) (T, error)) Serde[T] {
	return funcSerde[T]{ser: ser, de: de}
}

type funcSerde[T any] struct {
	ser func(T) ([]byte, error)
	de  func([]byte) (T, error)
}

func (s funcSerde[T]) Serialize(topic string, v T) ([]byte, error) {
	if s.ser == nil {
		return nil, fmt.Errorf("%w: topic %q: serde built by Func has no serialize function", ErrSerialize, topic)
	}
	data, err := s.ser(v)
	if err != nil {
		return nil, fmt.Errorf("%w: topic %q: %w", ErrSerialize, topic, err)
	}
	return data, nil
}

func (s funcSerde[T]) Deserialize(topic string, data []byte) (T, error) {
	var zero T
	if s.de == nil {
		return zero, fmt.Errorf("%w: topic %q: serde built by Func has no deserialize function", ErrDeserialize, topic)
	}
	v, err := s.de(data)
	if err != nil {
		return zero, fmt.Errorf("%w: topic %q: %w", ErrDeserialize, topic, err)
	}
	return v, nil
}
