package serde_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/serde"
)

type click struct {
	User  string            `json:"user"`
	Page  string            `json:"page"`
	At    int64             `json:"at"`
	Tags  []string          `json:"tags,omitempty"`
	Extra map[string]string `json:"extra,omitempty"`
}

func TestJSONRoundTrip(t *testing.T) {
	s := serde.JSON[click]()
	in := click{User: "ada", Page: "/home", At: math.MaxInt64, Tags: []string{"a", "日本"}, Extra: map[string]string{"k": "v"}}
	data, err := s.Serialize("clicks", in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Deserialize("clicks", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip gave %+v, want %+v", out, in)
	}
}

func TestJSONWritesPlainJSON(t *testing.T) {
	data, err := serde.JSON[click]().Serialize("clicks", click{User: "ada", Page: "/", At: 7})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"user":"ada","page":"/","at":7}`; string(data) != want {
		t.Errorf("Serialize = %s, want %s", data, want)
	}
}

func TestJSONOfNonStructTypes(t *testing.T) {
	checkRoundTrip(t, serde.JSON[string](), "")
	checkRoundTrip(t, serde.JSON[string](), "quote\" and \\ and \x00")
	checkRoundTrip(t, serde.JSON[int64](), math.MinInt64)
	checkRoundTrip(t, serde.JSON[bool](), true)

	m := map[string][]int{"a": {1, 2}, "b": nil}
	data, err := serde.JSON[map[string][]int]().Serialize("t", m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := serde.JSON[map[string][]int]().Deserialize("t", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("map round trip gave %v, want %v", back, m)
	}
}

func TestJSONSyntaxErrorNamesTopicAndPosition(t *testing.T) {
	_, err := serde.JSON[click]().Deserialize("clicks", []byte(`{"user": x}`))
	if !errors.Is(err, serde.ErrDeserialize) {
		t.Fatalf("err = %v, want ErrDeserialize", err)
	}
	var syntaxErr *json.SyntaxError
	if !errors.As(err, &syntaxErr) {
		t.Fatalf("err = %v, want a *json.SyntaxError inside", err)
	}
	for _, part := range []string{`topic "clicks"`, "serde_test.click", "at byte 10 of 11", "invalid character 'x'"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
}

func TestJSONRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "   ", "{", `{"user":"a"} trailing`, "null garbage", "\xff"} {
		_, err := serde.JSON[click]().Deserialize("clicks", []byte(in))
		if !errors.Is(err, serde.ErrDeserialize) {
			t.Errorf("Deserialize(%q): err = %v, want ErrDeserialize", in, err)
		}
	}
}

func TestJSONTypeMismatchIsADeserializeError(t *testing.T) {
	_, err := serde.JSON[click]().Deserialize("clicks", []byte(`{"user": 12}`))
	if !errors.Is(err, serde.ErrDeserialize) {
		t.Fatalf("err = %v, want ErrDeserialize", err)
	}
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		t.Fatalf("err = %v, want a *json.UnmarshalTypeError inside", err)
	}
	if !strings.Contains(err.Error(), `topic "clicks"`) {
		t.Errorf("error %q does not name the topic", err)
	}
}

func TestJSONSerializeErrors(t *testing.T) {
	if _, err := serde.JSON[float64]().Serialize("t", math.NaN()); !errors.Is(err, serde.ErrSerialize) {
		t.Errorf("NaN: err = %v, want ErrSerialize", err)
	}
	_, err := serde.JSON[chan int]().Serialize("events", make(chan int))
	if !errors.Is(err, serde.ErrSerialize) {
		t.Fatalf("chan: err = %v, want ErrSerialize", err)
	}
	if !strings.Contains(err.Error(), `topic "events"`) || !strings.Contains(err.Error(), "chan int") {
		t.Errorf("error %q does not name the topic and type", err)
	}
}

func TestJSONDoesNotAliasInput(t *testing.T) {
	buf := []byte(`["abc"]`)
	v, err := serde.JSON[[]string]().Deserialize("t", buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, `["XYZ"]`)
	if v[0] != "abc" {
		t.Errorf("result changed with its input: %q", v)
	}
}
