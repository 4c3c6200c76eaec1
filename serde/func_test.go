package serde_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/serde"
)

// decimal is a user serde: ints as decimal text, as some producers write
// them.
var decimal = serde.Func(
	func(v int) ([]byte, error) { return strconv.AppendInt(nil, int64(v), 10), nil },
	func(data []byte) (int, error) { return strconv.Atoi(string(data)) },
)

func TestFuncRoundTrip(t *testing.T) {
	for _, v := range []int{0, -7, 1234567} {
		checkRoundTrip(t, decimal, v)
	}
	data, err := decimal.Serialize("t", 42)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "42" {
		t.Errorf("Serialize(42) = %q", data)
	}
}

func TestFuncWrapsUserErrors(t *testing.T) {
	_, err := decimal.Deserialize("counts", []byte("forty-two"))
	if !errors.Is(err, serde.ErrDeserialize) {
		t.Fatalf("err = %v, want ErrDeserialize", err)
	}
	if !errors.Is(err, strconv.ErrSyntax) {
		t.Errorf("err = %v, want the user's strconv.ErrSyntax still inside", err)
	}
	if !strings.Contains(err.Error(), `topic "counts"`) {
		t.Errorf("error %q does not name the topic", err)
	}

	errTooBig := errors.New("too big")
	bounded := serde.Func(
		func(v int) ([]byte, error) {
			if v > 9 {
				return nil, fmt.Errorf("%d: %w", v, errTooBig)
			}
			return []byte{byte('0' + v)}, nil
		},
		func(data []byte) (int, error) { return int(data[0] - '0'), nil },
	)
	_, err = bounded.Serialize("digits", 10)
	if !errors.Is(err, serde.ErrSerialize) || !errors.Is(err, errTooBig) {
		t.Errorf("err = %v, want ErrSerialize wrapping errTooBig", err)
	}
}

func TestFuncWithOneDirectionMissing(t *testing.T) {
	readOnly := serde.Func(nil, func(data []byte) (string, error) { return string(data), nil })
	if v, err := readOnly.Deserialize("t", []byte("x")); err != nil || v != "x" {
		t.Errorf("Deserialize = %q, %v", v, err)
	}
	if _, err := readOnly.Serialize("t", "x"); !errors.Is(err, serde.ErrSerialize) {
		t.Errorf("Serialize without a function: err = %v, want ErrSerialize", err)
	}

	writeOnly := serde.Func(func(v string) ([]byte, error) { return []byte(v), nil }, nil)
	if _, err := writeOnly.Deserialize("t", []byte("x")); !errors.Is(err, serde.ErrDeserialize) {
		t.Errorf("Deserialize without a function: err = %v, want ErrDeserialize", err)
	}
}
