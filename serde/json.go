package serde

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// JSON returns a serde that encodes values of T as JSON text with
// encoding/json, so T's field tags and any json.Marshaler or
// json.Unmarshaler methods apply.
//
// Deserialize rejects malformed JSON, trailing data after the value, and JSON
// whose shape does not fit T (a string where T has a number, say); the error
// wraps [ErrDeserialize] and the *json.SyntaxError or
// *json.UnmarshalTypeError behind it. As with json.Unmarshal, fields absent
// from the input keep their zero values and unknown fields are ignored.
// Serialize fails, wrapping [ErrSerialize], for values JSON cannot express:
// channels, functions, NaN and infinite floats.
func JSON[T any]() Serde[T] {
	return jsonSerde[T]{}
}

type jsonSerde[T any] struct{}

func (jsonSerde[T]) Serialize(topic string, v T) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: topic %q: json from %v: %w", ErrSerialize, topic, reflect.TypeFor[T](), err)
	}
	return data, nil
}

func (jsonSerde[T]) Deserialize(topic string, data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		var zero T
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			// json.SyntaxError's message leaves out where the problem is.
			return zero, fmt.Errorf("%w: topic %q: json into %v at byte %d of %d: %w",
				ErrDeserialize, topic, reflect.TypeFor[T](), syntaxErr.Offset, len(data), err)
		}
		return zero, fmt.Errorf("%w: topic %q: json into %v: %w", ErrDeserialize, topic, reflect.TypeFor[T](), err)
	}
	return v, nil
}
