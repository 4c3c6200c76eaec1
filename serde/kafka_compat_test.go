package serde_test

import (
	"bytes"
	"encoding/hex"
	"math"
	"testing"

	"github.com/eddy-streams/eddy/serde"
)

// The golden bytes below were printed by the Java client's serializers
// (kafka-clients 4.0.0) with testdata/java_serializers.jsh. A Java app
// reading what eddy writes, or writing what eddy reads, depends on them.

func TestInt64MatchesJavaLongSerializer(t *testing.T) {
	golden := []struct {
		v    int64
		java string
	}{
		{0, "0000000000000000"},
		{1, "0000000000000001"},
		{-1, "ffffffffffffffff"},
		{math.MinInt64, "8000000000000000"},
		{math.MaxInt64, "7fffffffffffffff"},
		{0x0102030405060708, "0102030405060708"},
		{1700000000000, "0000018bcfe56800"},
	}
	for _, g := range golden {
		checkGolden(t, serde.Int64, g.v, g.java)
	}
}

func TestInt32MatchesJavaIntegerSerializer(t *testing.T) {
	golden := []struct {
		v    int32
		java string
	}{
		{0, "00000000"},
		{1, "00000001"},
		{-1, "ffffffff"},
		{math.MinInt32, "80000000"},
		{math.MaxInt32, "7fffffff"},
		{0x01020304, "01020304"},
	}
	for _, g := range golden {
		checkGolden(t, serde.Int32, g.v, g.java)
	}
}

func TestFloat64MatchesJavaDoubleSerializer(t *testing.T) {
	golden := []struct {
		v    float64
		java string
	}{
		{0, "0000000000000000"},
		{math.Copysign(0, -1), "8000000000000000"},
		{1.5, "3ff8000000000000"},
		{-2.25, "c002000000000000"},
		{math.Inf(1), "7ff0000000000000"},
		{math.Inf(-1), "fff0000000000000"},
		{math.SmallestNonzeroFloat64, "0000000000000001"},
		{math.MaxFloat64, "7fefffffffffffff"},
		{math.Pi, "400921fb54442d18"},
	}
	for _, g := range golden {
		checkGolden(t, serde.Float64, g.v, g.java)
	}
}

func TestFloat64WritesJavasCanonicalNaN(t *testing.T) {
	// Go's math.NaN() is 7ff8000000000001; Java collapses every NaN,
	// including that one, to 7ff8000000000000.
	for _, bits := range []uint64{0x7ff8000000000001, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001} {
		got, err := serde.Float64.Serialize("t", math.Float64frombits(bits))
		if err != nil {
			t.Fatalf("Serialize(NaN %016x): %v", bits, err)
		}
		if want := "7ff8000000000000"; hex.EncodeToString(got) != want {
			t.Errorf("Serialize(NaN %016x) = %x, want %s", bits, got, want)
		}
	}
}

func TestStringMatchesJavaStringSerializer(t *testing.T) {
	golden := []struct {
		v    string
		java string
	}{
		{"", ""},
		{"a", "61"},
		{"héllo", "68c3a96c6c6f"},
		{"日本語", "e697a5e69cace8aa9e"},
		{"😀", "f09f9880"},
	}
	for _, g := range golden {
		checkGolden(t, serde.String, g.v, g.java)
	}
}

// checkGolden checks that s writes v as the hex bytes java and reads them
// back as v.
func checkGolden[T comparable](t *testing.T, s serde.Serde[T], v T, java string) {
	t.Helper()
	want, err := hex.DecodeString(java)
	if err != nil {
		t.Fatalf("bad golden hex %q: %v", java, err)
	}
	got, err := s.Serialize("golden", v)
	if err != nil {
		t.Fatalf("Serialize(%v): %v", v, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Serialize(%v) = %x, Java writes %s", v, got, java)
	}
	back, err := s.Deserialize("golden", want)
	if err != nil {
		t.Fatalf("Deserialize(%s): %v", java, err)
	}
	if back != v {
		t.Errorf("Deserialize(%s) = %v, want %v", java, back, v)
	}
}
