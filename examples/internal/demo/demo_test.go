package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
)

func TestTopBreaksTiesByKey(t *testing.T) {
	got := Top(map[string]int64{"b": 2, "a": 2, "c": 5, "d": 1}, 3)
	want := []Entry{{"c", 5}, {"a", 2}, {"b", 2}}
	if len(got) != len(want) {
		t.Fatalf("Top = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Top = %v, want %v", got, want)
		}
	}
	if n := len(Top(map[string]int64{"a": 1}, 10)); n != 1 {
		t.Fatalf("Top of one key returned %d entries", n)
	}
}

func TestCompareCounts(t *testing.T) {
	if err := CompareCounts("x", map[string]int64{"a": 1}, map[string]int64{"a": 1}); err != nil {
		t.Fatal(err)
	}
	err := CompareCounts("topic t", map[string]int64{"a": 2, "extra": 1}, map[string]int64{"a": 1, "missing": 3})
	if err == nil {
		t.Fatal("no error for different counts")
	}
	for _, want := range []string{"topic t: 3 differences", `"a": 2 (present true), want 1`, `"missing": 0 (present false), want 3`, `"extra": 1, want nothing`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPrintTop(t *testing.T) {
	var b strings.Builder
	if err := PrintTop(&b, "page", []Entry{{"/", 1200}, {"/a-long-page", 7}}); err != nil {
		t.Fatal(err)
	}
	want := "rank  page          count\n" +
		"   1  /              1200\n" +
		"   2  /a-long-page      7\n"
	if b.String() != want {
		t.Fatalf("PrintTop wrote\n%s\nwant\n%s", b.String(), want)
	}
}

// TestWriterAndLastValues writes more records than fit in one batch and
// reads the last value of each key back, deletes included.
func TestWriterAndLastValues(t *testing.T) {
	ctx := context.Background()
	br := clienttest.OpenBroker(t)
	c := br.Embedded()
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: "t", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(ctx, c, "t")
	if err != nil {
		t.Fatal(err)
	}
	const n = recordsPerBatch*2 + 17
	want := map[string]int64{}
	for i := range n {
		key := []string{"a", "b", "c"}[i%3]
		v, _ := serde.Int64.Serialize("t", int64(i))
		if err := w.Add(int32(i%3%2), []byte(key), v, int64(i)); err != nil {
			t.Fatal(err)
		}
		want[key] = int64(i)
	}
	if err := w.Add(1, []byte("b"), nil, n); err != nil { // a delete
		t.Fatal(err)
	}
	delete(want, "b")
	if err := w.Add(2, nil, nil, 0); err == nil {
		t.Fatal("Add to a partition the topic lacks succeeded")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Written() != n+1 {
		t.Fatalf("Written = %d, want %d", w.Written(), n+1)
	}
	got, err := LastValues(ctx, c, "t", serde.Int64)
	if err != nil {
		t.Fatal(err)
	}
	if err := CompareCounts("last values", got, want); err != nil {
		t.Fatal(err)
	}
}
