package serde

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

var (
	// String encodes a string as its bytes, like the Java client's
	// StringSerde with its default UTF-8 encoding. The empty string encodes
	// to an empty, non-nil slice. Bytes that are not valid UTF-8 pass through
	// unchanged in both directions.
	String Serde[string] = stringSerde{}

	// Bytes passes byte slices through, like the Java client's
	// ByteArraySerde. Serialize returns v itself, without copying. Deserialize
	// returns a copy, because the engine may hand it bytes that alias a fetch
	// buffer. nil maps to nil (a null record) and an empty slice to an empty,
	// non-nil slice, in both directions.
	Bytes Serde[[]byte] = bytesSerde{}

	// Int64 encodes an int64 as 8 bytes, big endian, like the Java client's
	// LongSerde. Deserialize fails unless given exactly 8 bytes.
	Int64 Serde[int64] = int64Serde{}

	// Int32 encodes an int32 as 4 bytes, big endian, like the Java client's
	// IntegerSerde. Deserialize fails unless given exactly 4 bytes.
	Int32 Serde[int32] = int32Serde{}

	// Float64 encodes a float64 as its 8 IEEE-754 bytes, big endian, like the
	// Java client's DoubleSerde. Every NaN encodes as 7F F8 00 00 00 00 00 00,
	// the canonical NaN Java writes, so equal values give equal bytes (Go's
	// math.NaN has a different payload). Deserialize keeps whatever NaN
	// payload it reads and fails unless given exactly 8 bytes.
	Float64 Serde[float64] = float64Serde{}
)

type stringSerde struct{}

func (stringSerde) Serialize(_ string, v string) ([]byte, error) {
	if v == "" {
		// Spelled out so "" can never come back as nil, which the engine
		// would write as a null value.
		return []byte{}, nil
	}
	return []byte(v), nil
}

func (stringSerde) AppendSerialize(dst []byte, _ string, v string) ([]byte, error) {
	return append(dst, v...), nil
}

func (stringSerde) Deserialize(_ string, data []byte) (string, error) {
	return string(data), nil
}

type bytesSerde struct{}

func (bytesSerde) Serialize(_ string, v []byte) ([]byte, error) {
	return v, nil
}

func (bytesSerde) Deserialize(_ string, data []byte) ([]byte, error) {
	return bytes.Clone(data), nil
}

type int64Serde struct{}

func (int64Serde) Serialize(_ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(v)), nil
}

func (int64Serde) AppendSerialize(dst []byte, _ string, v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(dst, uint64(v)), nil
}

func (int64Serde) Deserialize(topic string, data []byte) (int64, error) {
	if len(data) != 8 {
		return 0, wrongLength(topic, "int64", 8, data)
	}
	return int64(binary.BigEndian.Uint64(data)), nil
}

type int32Serde struct{}

func (int32Serde) Serialize(_ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(make([]byte, 0, 4), uint32(v)), nil
}

func (int32Serde) AppendSerialize(dst []byte, _ string, v int32) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, uint32(v)), nil
}

func (int32Serde) Deserialize(topic string, data []byte) (int32, error) {
	if len(data) != 4 {
		return 0, wrongLength(topic, "int32", 4, data)
	}
	return int32(binary.BigEndian.Uint32(data)), nil
}

// javaCanonicalNaN is the bit pattern Java's Double.doubleToLongBits gives
// every NaN, and so the one DoubleSerializer writes.
const javaCanonicalNaN = 0x7ff8000000000000

type float64Serde struct{}

func (float64Serde) Serialize(_ string, v float64) ([]byte, error) {
	bits := math.Float64bits(v)
	if math.IsNaN(v) {
		bits = javaCanonicalNaN
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), bits), nil
}

func (float64Serde) Deserialize(topic string, data []byte) (float64, error) {
	if len(data) != 8 {
		return 0, wrongLength(topic, "float64", 8, data)
	}
	return math.Float64frombits(binary.BigEndian.Uint64(data)), nil
}

func wrongLength(topic, typ string, want int, data []byte) error {
	return fmt.Errorf("%w: topic %q: %s needs %d bytes, got %d", ErrDeserialize, topic, typ, want, len(data))
}
