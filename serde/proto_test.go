package serde_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/eddy-streams/eddy/serde"
)

var (
	stringValues = serde.Proto(func() *wrapperspb.StringValue { return new(wrapperspb.StringValue) })
	bytesValues  = serde.Proto(func() *wrapperspb.BytesValue { return new(wrapperspb.BytesValue) })
)

func TestProtoRoundTrip(t *testing.T) {
	ts := serde.Proto(func() *timestamppb.Timestamp { return new(timestamppb.Timestamp) })
	in := &timestamppb.Timestamp{Seconds: 1700000000, Nanos: 123456789}
	data, err := ts.Serialize("events", in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ts.Deserialize("events", data)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, out) {
		t.Errorf("round trip gave %v, want %v", out, in)
	}
}

func TestProtoWritesStandardEncoding(t *testing.T) {
	// Field 1, wire type 2 (length-delimited), length 2, "hi".
	data, err := stringValues.Serialize("t", wrapperspb.String("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(data), "0a026869"; got != want {
		t.Errorf("Serialize = %s, want %s", got, want)
	}
}

func TestProtoEmptyMessageIsNotNull(t *testing.T) {
	for _, m := range []*wrapperspb.StringValue{{}, nil} {
		data, err := stringValues.Serialize("t", m)
		if err != nil {
			t.Fatal(err)
		}
		if data == nil || len(data) != 0 {
			t.Errorf("Serialize(%v) = %#v, want empty non-nil", m, data)
		}
	}
	back, err := stringValues.Deserialize("t", []byte{})
	if err != nil {
		t.Fatal(err)
	}
	if back == nil || back.GetValue() != "" {
		t.Errorf("Deserialize(empty) = %v, want an empty message", back)
	}
}

func TestProtoSerializeIsDeterministic(t *testing.T) {
	fields := map[string]any{}
	for i := range 32 {
		fields[fmt.Sprintf("field-%02d", i)] = float64(i)
	}
	st, err := structpb.NewStruct(fields)
	if err != nil {
		t.Fatal(err)
	}
	structs := serde.Proto(func() *structpb.Struct { return new(structpb.Struct) })
	first, err := structs.Serialize("t", st)
	if err != nil {
		t.Fatal(err)
	}
	// Go randomizes map iteration, so a non-deterministic encoder would
	// almost surely reorder 32 map entries within a few tries.
	for range 10 {
		again, err := structs.Serialize("t", st)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("two encodings of one message differ:\n%x\n%x", first, again)
		}
	}
}

func TestProtoRejectsMalformedData(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated length", []byte{0x0a, 0x05, 'a'}},
		{"bad wire type", []byte{0x0f}},
		{"invalid UTF-8 in a string field", []byte{0x0a, 0x01, 0xff}},
	} {
		_, err := stringValues.Deserialize("names", tc.data)
		if !errors.Is(err, serde.ErrDeserialize) {
			t.Errorf("%s: err = %v, want ErrDeserialize", tc.name, err)
			continue
		}
		for _, part := range []string{`topic "names"`, "google.protobuf.StringValue"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, part)
			}
		}
	}
}

func TestProtoWithoutAUsableConstructor(t *testing.T) {
	valid := []byte{0x0a, 0x00}
	if _, err := serde.Proto[*wrapperspb.StringValue](nil).Deserialize("t", valid); !errors.Is(err, serde.ErrDeserialize) {
		t.Errorf("nil newMessage: err = %v, want ErrDeserialize", err)
	}
	nilPointer := serde.Proto(func() *wrapperspb.StringValue { return nil })
	if _, err := nilPointer.Deserialize("t", valid); !errors.Is(err, serde.ErrDeserialize) {
		t.Errorf("newMessage returning a nil pointer: err = %v, want ErrDeserialize", err)
	}
	nilInterface := serde.Proto(func() proto.Message { return nil })
	if _, err := nilInterface.Deserialize("t", valid); !errors.Is(err, serde.ErrDeserialize) {
		t.Errorf("newMessage returning a nil interface: err = %v, want ErrDeserialize", err)
	}
	if _, err := nilInterface.Serialize("t", nil); err != nil {
		t.Errorf("Serialize(nil interface) = %v, want the empty encoding", err)
	}
}

func TestProtoDoesNotAliasInput(t *testing.T) {
	buf := []byte{0x0a, 0x03, 'a', 'b', 'c'}
	m, err := bytesValues.Deserialize("t", buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf[2:], "XYZ")
	if string(m.GetValue()) != "abc" {
		t.Errorf("message changed with its input: %q", m.GetValue())
	}
}

func TestProtoKeepsUnknownFields(t *testing.T) {
	// StringValue has field 1 only; field 2 (varint 7) must survive a
	// read-modify-write by an app built against an older schema.
	withUnknown := []byte{0x0a, 0x02, 'h', 'i', 0x10, 0x07}
	m, err := stringValues.Deserialize("t", withUnknown)
	if err != nil {
		t.Fatal(err)
	}
	data, err := stringValues.Serialize("t", m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, withUnknown) {
		t.Errorf("re-encoded as %x, want %x", data, withUnknown)
	}
}
