package dsl

import (
	"encoding/binary"
	"fmt"
)

// Store values carry the timestamp of the update that produced them, so a
// cache flush can forward the update with its event time: 8 bytes of
// big-endian milliseconds, then the serialized value.
const timestampSize = 8

// EncodeTimestamped prefixes a serialized value with its timestamp.
func EncodeTimestamped(ts int64, value []byte) []byte {
	out := make([]byte, timestampSize+len(value))
	binary.BigEndian.PutUint64(out, uint64(ts))
	copy(out[timestampSize:], value)
	return out
}

// AppendTimestamp appends the timestamp prefix of a stored value to b; the
// serialized value goes after it.
func AppendTimestamp(b []byte, ts int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(ts))
}

// DecodeTimestamped splits a stored value into timestamp and value.
func DecodeTimestamped(b []byte) (int64, []byte, error) {
	if len(b) < timestampSize {
		return 0, nil, fmt.Errorf("stored value of %d bytes is shorter than its timestamp", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), b[timestampSize:], nil
}
