package serde_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eddy-streams/eddy/serde"
)

// Serdes are values: pick one per key and value wherever a topic is read or
// written. The primitive serdes write the same bytes as the Java client's.
func Example() {
	key, _ := serde.String.Serialize("clicks", "user-42")
	count, _ := serde.Int64.Serialize("click-counts", 1)
	ratio, _ := serde.Float64.Serialize("ratios", 1.5)
	fmt.Printf("% x\n% x\n% x\n", key, count, ratio)

	n, _ := serde.Int64.Deserialize("click-counts", count)
	fmt.Println(n)
	// Output:
	// 75 73 65 72 2d 34 32
	// 00 00 00 00 00 00 00 01
	// 3f f8 00 00 00 00 00 00
	// 1
}

// Wrong-length input is a deserialize error that says what was expected.
func Example_errors() {
	_, err := serde.Int32.Deserialize("scores", []byte{0, 1})
	fmt.Println(err)
	fmt.Println(errors.Is(err, serde.ErrDeserialize))
	// Output:
	// serde: cannot deserialize: topic "scores": int32 needs 4 bytes, got 2
	// true
}

func ExampleJSON() {
	type Click struct {
		User string `json:"user"`
		Page string `json:"page"`
	}
	clicks := serde.JSON[Click]()

	data, _ := clicks.Serialize("clicks", Click{User: "ada", Page: "/home"})
	fmt.Println(string(data))

	c, _ := clicks.Deserialize("clicks", []byte(`{"user":"bob","page":"/cart"}`))
	fmt.Printf("%+v\n", c)

	_, err := clicks.Deserialize("clicks", []byte(`{"user":`))
	fmt.Println(err)
	// Output:
	// {"user":"ada","page":"/home"}
	// {User:bob Page:/cart}
	// serde: cannot deserialize: topic "clicks": json into serde_test.Click at byte 8 of 8: unexpected end of JSON input
}

// Func builds a serde for a format of your own, here comma-separated
// values.
func ExampleFunc() {
	csv := serde.Func(
		func(fields []string) ([]byte, error) {
			for _, f := range fields {
				if strings.Contains(f, ",") {
					return nil, fmt.Errorf("field %q contains a comma", f)
				}
			}
			return []byte(strings.Join(fields, ",")), nil
		},
		func(data []byte) ([]string, error) { return strings.Split(string(data), ","), nil },
	)

	data, _ := csv.Serialize("rows", []string{"a", "b", "c"})
	fmt.Println(string(data))

	_, err := csv.Serialize("rows", []string{"x,y"})
	fmt.Println(err)
	// Output:
	// a,b,c
	// serde: cannot serialize: topic "rows": field "x,y" contains a comma
}

// Proto takes a function returning an empty message for Deserialize to fill.
func ExampleProto() {
	timestamps := serde.Proto(func() *timestamppb.Timestamp { return new(timestamppb.Timestamp) })

	data, _ := timestamps.Serialize("events", timestamppb.New(time.Unix(1700000000, 0)))
	fmt.Printf("% x\n", data)

	ts, _ := timestamps.Deserialize("events", data)
	fmt.Println(ts.AsTime().UTC().Format(time.RFC3339))
	// Output:
	// 08 80 e2 cf aa 06
	// 2023-11-14T22:13:20Z
}

// Bytes copies on Deserialize, so the result stays valid after the engine
// reuses its fetch buffer; nil stays nil (a null record).
func ExampleBytes() {
	buf := []byte("payload")
	v, _ := serde.Bytes.Deserialize("raw", buf)
	copy(buf, "XXXXXXX")
	fmt.Println(string(v))

	null, _ := serde.Bytes.Serialize("raw", nil)
	fmt.Println(null == nil)
	// Output:
	// payload
	// true
}
