package batch

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// Kafka's varints are encoding/binary's signed varints; binary serves as
// the reference here, with Kafka's tighter size bounds checked separately.
func TestVarintsMatchEncodingBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	values := []int64{0, 1, -1, 63, -64, 64, -65, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64}
	for range 2000 {
		values = append(values, rng.Int64()>>rng.IntN(64))
	}
	for _, v := range values {
		ours := appendVarint(nil, v)
		ref := binary.AppendVarint(nil, v)
		if string(ours) != string(ref) || varintSize(v) != len(ref) {
			t.Fatalf("%d: encoded %x (size %d), want %x", v, ours, varintSize(v), ref)
		}
		got, n := readVarlong(ref)
		if got != v || n != len(ref) {
			t.Fatalf("readVarlong(%x) = %d, %d", ref, got, n)
		}
		if v == int64(int32(v)) {
			got32, n := readVarint(ref)
			if int64(got32) != v || n != len(ref) {
				t.Fatalf("readVarint(%x) = %d, %d", ref, got32, n)
			}
		}
	}
}

func TestVarintBounds(t *testing.T) {
	cases := []struct {
		in  []byte
		n32 int // readVarint's n: > 0 ok, 0 short, < 0 overflow
		n64 int
	}{
		{nil, 0, 0},
		{[]byte{0x80}, 0, 0},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 5, 5},           // max 32-bit zig-zag
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x1f}, -1, 5},          // 33 bits
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, -1, 6},    // 6 bytes
		{append(bytes.Repeat([]byte{0xff}, 9), 0x01), -1, 10},  // max 64-bit
		{append(bytes.Repeat([]byte{0xff}, 9), 0x02), -1, -1},  // 65 bits
		{append(bytes.Repeat([]byte{0x80}, 10), 0x00), -1, -1}, // 11 bytes
		{bytes.Repeat([]byte{0x80}, 4), 0, 0},                  // cut
	}
	for _, c := range cases {
		if _, n := readVarint(c.in); sign(n) != sign(c.n32) || (n > 0 && n != c.n32) {
			t.Errorf("readVarint(%x): n = %d, want %d", c.in, n, c.n32)
		}
		if _, n := readVarlong(c.in); sign(n) != sign(c.n64) || (n > 0 && n != c.n64) {
			t.Errorf("readVarlong(%x): n = %d, want %d", c.in, n, c.n64)
		}
	}
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}
