package serde_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/serde"
)

func TestInt64RoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 42, -42, math.MinInt64, math.MinInt64 + 1, math.MaxInt64, math.MaxInt64 - 1, 1 << 32, -(1 << 32)} {
		checkRoundTrip(t, serde.Int64, v)
	}
}

func TestInt32RoundTrip(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 42, -42, math.MinInt32, math.MinInt32 + 1, math.MaxInt32, math.MaxInt32 - 1, 1 << 16} {
		checkRoundTrip(t, serde.Int32, v)
	}
}

func TestFloat64RoundTrip(t *testing.T) {
	for _, v := range []float64{0, 1.5, -1.5, math.Pi, math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-300} {
		checkRoundTrip(t, serde.Float64, v)
	}
}

func TestFloat64KeepsNegativeZero(t *testing.T) {
	negZero := math.Copysign(0, -1)
	data, err := serde.Float64.Serialize("t", negZero)
	if err != nil {
		t.Fatal(err)
	}
	back, err := serde.Float64.Deserialize("t", data)
	if err != nil {
		t.Fatal(err)
	}
	if back != 0 || !math.Signbit(back) {
		t.Errorf("-0 came back as %v (sign bit %v)", back, math.Signbit(back))
	}
}

func TestFloat64NaNRoundTrip(t *testing.T) {
	data, err := serde.Float64.Serialize("t", math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	back, err := serde.Float64.Deserialize("t", data)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back) {
		t.Errorf("NaN came back as %v", back)
	}
	// A NaN payload written by another producer is read as it is, not
	// canonicalized: reading must not alter data.
	odd := []byte{0x7f, 0xf8, 0, 0, 0, 0, 0, 0x2a}
	back, err = serde.Float64.Deserialize("t", odd)
	if err != nil {
		t.Fatal(err)
	}
	if got := math.Float64bits(back); got != 0x7ff800000000002a {
		t.Errorf("NaN payload read as %016x, want 7ff800000000002a", got)
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, v := range []string{"", "a", "hello, world", "héllo", "日本語", "😀", "nul\x00inside", strings.Repeat("x", 1<<16)} {
		checkRoundTrip(t, serde.String, v)
	}
}

func TestStringPassesInvalidUTF8Through(t *testing.T) {
	raw := []byte{0xff, 0xfe, 'a', 0xc3, 0x28, 0x80}
	s, err := serde.String.Deserialize("t", raw)
	if err != nil {
		t.Fatal(err)
	}
	if s != string(raw) {
		t.Errorf("Deserialize altered invalid UTF-8: got %x, want %x", s, raw)
	}
	data, err := serde.String.Serialize("t", s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, raw) {
		t.Errorf("Serialize altered invalid UTF-8: got %x, want %x", data, raw)
	}
}

func TestEmptyValuesNeverSerializeToNil(t *testing.T) {
	// A nil result would be written as a null value: a tombstone.
	data, err := serde.String.Serialize("t", "")
	if err != nil {
		t.Fatal(err)
	}
	if data == nil || len(data) != 0 {
		t.Errorf("String.Serialize(\"\") = %#v, want empty non-nil", data)
	}
}

func TestBytesKeepsNilAndEmptyApart(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"nil", nil}, {"empty", []byte{}}} {
		ser, err := serde.Bytes.Serialize("t", tc.in)
		if err != nil {
			t.Fatal(err)
		}
		de, err := serde.Bytes.Deserialize("t", tc.in)
		if err != nil {
			t.Fatal(err)
		}
		for dir, got := range map[string][]byte{"Serialize": ser, "Deserialize": de} {
			if (got == nil) != (tc.in == nil) || len(got) != 0 {
				t.Errorf("%s(%s) = %#v", dir, tc.name, got)
			}
		}
	}
}

func TestDeserializeDoesNotAliasInput(t *testing.T) {
	// The engine may pass bytes that alias a fetch buffer and reuse them
	// once Deserialize returns.
	buf := []byte("fetch-buffer")
	b, err := serde.Bytes.Deserialize("t", buf)
	if err != nil {
		t.Fatal(err)
	}
	s, err := serde.String.Deserialize("t", buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	if string(b) != "fetch-buffer" {
		t.Errorf("Bytes result changed with its input: %q", b)
	}
	if s != "fetch-buffer" {
		t.Errorf("String result changed with its input: %q", s)
	}
}

func TestBytesRoundTrip(t *testing.T) {
	in := []byte{0, 1, 2, 0xff, 0x80}
	data, err := serde.Bytes.Serialize("t", in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := serde.Bytes.Deserialize("t", data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, in) {
		t.Errorf("round trip gave %x, want %x", back, in)
	}
}

func TestFixedWidthRejectsWrongLength(t *testing.T) {
	type deserializer func(topic string, data []byte) error
	serdes := []struct {
		name  string
		width int
		de    deserializer
	}{
		{"int64", 8, func(topic string, d []byte) error { _, err := serde.Int64.Deserialize(topic, d); return err }},
		{"int32", 4, func(topic string, d []byte) error { _, err := serde.Int32.Deserialize(topic, d); return err }},
		{"float64", 8, func(topic string, d []byte) error { _, err := serde.Float64.Deserialize(topic, d); return err }},
	}
	for _, s := range serdes {
		for _, n := range []int{0, 1, s.width - 1, s.width + 1, 16} {
			data := make([]byte, n)
			if n == 0 {
				data = nil
			}
			err := s.de("payments", data)
			if !errors.Is(err, serde.ErrDeserialize) {
				t.Errorf("%s with %d bytes: err = %v, want ErrDeserialize", s.name, n, err)
				continue
			}
			for _, part := range []string{`topic "payments"`, s.name, "needs", "got"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("%s with %d bytes: error %q does not mention %q", s.name, n, err, part)
				}
			}
		}
	}
	_, err := serde.Int64.Deserialize("payments", []byte{1, 2, 3})
	if want := `serde: cannot deserialize: topic "payments": int64 needs 8 bytes, got 3`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// checkRoundTrip checks that v survives Serialize then Deserialize.
func checkRoundTrip[T comparable](t *testing.T, s serde.Serde[T], v T) {
	t.Helper()
	data, err := s.Serialize("round-trip", v)
	if err != nil {
		t.Fatalf("Serialize(%v): %v", v, err)
	}
	back, err := s.Deserialize("round-trip", data)
	if err != nil {
		t.Fatalf("Deserialize(%x): %v", data, err)
	}
	if back != v {
		t.Errorf("round trip of %v gave %v", v, back)
	}
}

// TestAppendSerializeMatchesSerialize checks every Appender here appends
// exactly what Serialize returns, after whatever the buffer held.
func TestAppendSerializeMatchesSerialize(t *testing.T) {
	check := func(name string, ser func() ([]byte, error), app func([]byte) ([]byte, error)) {
		t.Helper()
		want, err := ser()
		if err != nil {
			t.Fatalf("%s: serialize: %v", name, err)
		}
		prefix := []byte("prefix")
		got, err := app(slices.Clone(prefix))
		if err != nil {
			t.Fatalf("%s: append: %v", name, err)
		}
		if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
			t.Fatalf("%s: appended %x after the prefix, Serialize gives %x", name, got[len(prefix):], want)
		}
	}
	for _, v := range []int64{0, -1, 1, math.MinInt64, math.MaxInt64} {
		check(fmt.Sprint("int64 ", v), func() ([]byte, error) { return serde.Int64.Serialize("t", v) },
			func(b []byte) ([]byte, error) { return serde.Int64.(serde.Appender[int64]).AppendSerialize(b, "t", v) })
		v32 := int32(v)
		check(fmt.Sprint("int32 ", v32), func() ([]byte, error) { return serde.Int32.Serialize("t", v32) },
			func(b []byte) ([]byte, error) {
				return serde.Int32.(serde.Appender[int32]).AppendSerialize(b, "t", v32)
			})
	}
	for _, v := range []string{"", "a", "héllo\xff"} {
		check(fmt.Sprintf("string %q", v), func() ([]byte, error) { return serde.String.Serialize("t", v) },
			func(b []byte) ([]byte, error) {
				return serde.String.(serde.Appender[string]).AppendSerialize(b, "t", v)
			})
	}
}
