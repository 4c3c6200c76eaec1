package batch

import "math/bits"

// Kafka's varint and varlong are zig-zag encoded base-128 varints, the same
// as encoding/binary's signed varints, but bounded to 5 and 10 bytes. A
// 32-bit value zig-zags to the same number whether it is widened to 64 bits
// first or not, so the encoders below serve both widths.

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// varintSize is the encoded size of v.
func varintSize(v int64) int { return (bits.Len64(zigzag(v)|1) + 6) / 7 }

// appendVarint appends v zig-zag encoded.
func appendVarint(dst []byte, v int64) []byte {
	u := zigzag(v)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// readVarint decodes a Kafka varint (at most 5 bytes, fitting in 32 bits)
// from the start of b. It returns the value and the bytes used, or n <= 0
// when b ends early or the encoding overflows.
func readVarint(b []byte) (v int32, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		u := uint32(b[0])
		return int32(u>>1) ^ -int32(u&1), 1
	}
	var u uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		if i == 4 && c > 0x0f {
			return 0, -1
		}
		u |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int32(u>>1) ^ -int32(u&1), i + 1
		}
	}
	return 0, -1
}

// readVarlong decodes a Kafka varlong (at most 10 bytes) from the start of b,
// with readVarint's conventions.
func readVarlong(b []byte) (v int64, n int) {
	if len(b) > 0 && b[0] < 0x80 {
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), 1
	}
	var u uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		if i == 9 && c > 0x01 {
			return 0, -1
		}
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, -1
}
