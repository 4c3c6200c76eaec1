package table_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// collect drains a range into keys and values.
func collect[K, V any](t *testing.T, app *stream.App, tbl table.Table[K, V], from, to *K) ([]K, []V) {
	t.Helper()
	it, err := table.Range(app, tbl, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var ks []K
	var vs []V
	for it.Next() {
		ks = append(ks, it.Key())
		vs = append(vs, it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return ks, vs
}

// TestRangeMatchesDirectCounts counts random words over four partitions
// and compares ranges with bounds drawn from the words (present or not)
// against the counts computed directly, sorted.
func TestRangeMatchesDirectCounts(t *testing.T) {
	b := stream.NewBuilder("range-test")
	words := stream.From(b, "words", serde.String, serde.String)
	counts := table.Count(words.GroupByKey(), table.Named("counts"))
	d, err := streamtest.New(b, streamtest.Partitions("words", 4))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamtest.Input(d, "words", serde.String, serde.String)
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]int64{}
	word := func() string { return fmt.Sprintf("w%03d", rng.IntN(400)) }
	for i := range 3000 {
		w := word()
		want[w]++
		// A non-empty value: streamtest currently pipes "" as a tombstone.
		if err := in.Pipe(w, "seen", time.UnixMilli(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	})
	expect := func(from, to *string) []string {
		var out []string
		for _, k := range sorted {
			if (from == nil || k >= *from) && (to == nil || k <= *to) {
				out = append(out, k)
			}
		}
		return out
	}
	check := func(from, to *string) {
		t.Helper()
		ks, vs := collect(t, d.App(), counts, from, to)
		if exp := expect(from, to); !slices.Equal(ks, exp) {
			t.Fatalf("range %v..%v: %d keys %v, want %d %v", deref(from), deref(to), len(ks), head(ks), len(exp), head(exp))
		}
		for i, k := range ks {
			if vs[i] != want[k] {
				t.Fatalf("range: %s counts %d, want %d", k, vs[i], want[k])
			}
		}
	}
	check(nil, nil)
	for range 200 {
		from, to := word(), word()
		check(&from, &to)
		check(&from, nil)
		check(nil, &to)
	}
	one := sorted[len(sorted)/2]
	check(&one, &one) // a single key, both ends included
	hi, lo := "w300", "w100"
	if ks, _ := collect(t, d.App(), counts, &hi, &lo); len(ks) != 0 {
		t.Fatalf("range from after to returned %v", ks)
	}
}

func deref(s *string) string {
	if s == nil {
		return "(open)"
	}
	return *s
}

func head[T any](s []T) []T { return s[:min(len(s), 5)] }

// TestRangeInt64KeysInByteOrder pins the documented order of serialized
// int64 keys: non-negative keys ascending, then negative keys ascending.
func TestRangeInt64KeysInByteOrder(t *testing.T) {
	b := stream.NewBuilder("range-int64")
	tbl := table.From(b, "numbers", serde.Int64, serde.String, table.Named("numbers"))
	d, err := streamtest.New(b, streamtest.Partitions("numbers", 3))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamtest.Input(d, "numbers", serde.Int64, serde.String)
	keys := []int64{-5, 3, 0, -1, 1 << 40, 7, -1 << 40}
	for _, k := range keys {
		if err := in.Pipe(k, fmt.Sprint("v", k), time.UnixMilli(1)); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(keys, func(a, b int64) int {
		ka, _ := serde.Int64.Serialize("", a)
		kb, _ := serde.Int64.Serialize("", b)
		return bytes.Compare(ka, kb)
	})
	ks, vs := collect(t, d.App(), tbl, nil, nil)
	if !slices.Equal(ks, keys) || !slices.Equal(ks, []int64{0, 3, 7, 1 << 40, -1 << 40, -5, -1}) {
		t.Fatalf("keys %v, want %v", ks, keys)
	}
	for i, k := range ks {
		if vs[i] != fmt.Sprint("v", k) {
			t.Fatalf("value of %d is %q", k, vs[i])
		}
	}
	from, to := int64(1), int64(1<<40)
	if ks, _ := collect(t, d.App(), tbl, &from, &to); !slices.Equal(ks, []int64{3, 7, 1 << 40}) {
		t.Fatalf("1..2^40: %v", ks)
	}
}

func TestRangeRefusesDerivedTables(t *testing.T) {
	b := stream.NewBuilder("range-derived")
	words := stream.From(b, "words", serde.String, serde.String)
	big := table.Count(words.GroupByKey(), table.Named("c")).Filter(func(_ string, n int64) bool { return n > 1 })
	d, err := streamtest.New(b)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := table.Range(d.App(), big, nil, nil); !errors.Is(err, table.ErrNotQueryable) {
		t.Fatalf("Range on a filtered table: %v, want ErrNotQueryable", err)
	}
}
