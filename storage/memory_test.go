package storage

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMemoryRangesAcrossChunks checks random bounds over more keys than
// one iterator chunk holds, forwards and backwards.
func TestMemoryRangesAcrossChunks(t *testing.T) {
	m := openTestMemory(t)
	var all []kv
	for i := range 1000 {
		k := fmt.Sprintf("%04d", i*2) // odd numbers fall between keys
		mustPut(t, m, k, fmt.Sprint(i))
		all = append(all, kv{k, fmt.Sprint(i)})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		lo, hi := rng.IntN(2100), rng.IntN(2100)
		start, end := []byte(fmt.Sprintf("%04d", lo)), []byte(fmt.Sprintf("%04d", hi))
		var want []kv
		for _, e := range all {
			if e.k >= string(start) && e.k < string(end) {
				want = append(want, e)
			}
		}
		if got := scan(t, m, start, end); !equalKVs(got, want) {
			t.Fatalf("Range(%s, %s): %d entries, want %d", start, end, len(got), len(want))
		}
		if got := reverseScan(t, m, start, end); !equalKVs(got, reversed(want)) {
			t.Fatalf("ReverseRange(%s, %s): %d entries, want %d", start, end, len(got), len(want))
		}
	}
	if got := scan(t, m, nil, nil); len(got) != 1000 {
		t.Fatalf("full scan %d entries", len(got))
	}
	if got := reverseScan(t, m, nil, nil); len(got) != 1000 || got[0].k != "1998" {
		t.Fatalf("full reverse scan %d entries", len(got))
	}
}

func TestMemorySizeAndClose(t *testing.T) {
	m := NewMemory("small")
	mustPut(t, m, "ab", "xyz")
	mustPut(t, m, "ab", "x") // replaces: counted once
	mustPut(t, m, "c", "")
	if m.Len() != 2 {
		t.Fatalf("Len = %d", m.Len())
	}
	size, err := m.ApproximateBytes()
	if want := int64(2 + 1 + 1 + 2*entryOverhead); err != nil || size != want {
		t.Fatalf("ApproximateBytes = %d, %v; want %d", size, err, want)
	}
	if err := m.Delete([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if size, _ := m.ApproximateBytes(); size != 1+entryOverhead {
		t.Fatalf("after delete ApproximateBytes = %d", size)
	}
	// A memory iterator keeps its snapshot after Close.
	it, err := m.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got := collect(t, it); !equalKVs(got, []kv{{"c", ""}}) {
		t.Fatalf("iterator after store Close = %v", got)
	}
	if m.Len() != 0 {
		t.Fatal("Close kept the contents")
	}
}
