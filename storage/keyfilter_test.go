package storage

import (
	"fmt"
	"testing"
)

// TestKeyFilterNoFalseNegatives adds keys across several growths of the
// filter: every added key must be reported present, and few absent ones.
func TestKeyFilterNoFalseNegatives(t *testing.T) {
	f := newKeyFilter()
	const n = 200_000 // layers of 16k, 32k, 64k, 128k keys
	for i := range n {
		f.add(fmt.Appendf(nil, "key-%d", i))
	}
	if len(f.layers) < 4 {
		t.Fatalf("%d layers after %d keys, want growth", len(f.layers), n)
	}
	for i := range n {
		if !f.mayContain(fmt.Appendf(nil, "key-%d", i)) {
			t.Fatalf("key-%d added but reported absent", i)
		}
	}
	falsePositives := 0
	const probes = 100_000
	for i := range probes {
		if f.mayContain(fmt.Appendf(nil, "other-%d", i)) {
			falsePositives++
		}
	}
	// About 1% per layer, summed over the layers a key is checked in.
	if rate := float64(falsePositives) / probes; rate > 0.06 {
		t.Fatalf("false positive rate %.3f", rate)
	}
	t.Logf("%d layers, false positive rate %.4f", len(f.layers), float64(falsePositives)/probes)
}

// TestSegmentedFilterOnlyForNewSegments checks that segments opened from
// disk answer from their store (their keys are unknown to any filter) and
// segments created by a write answer misses from their filter.
func TestSegmentedFilterOnlyForNewSegments(t *testing.T) {
	dir := t.TempDir()
	opts := timeKeyOptions(100, 1<<40)
	s, err := OpenSegmented(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(timeKey(150, "a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if s.segs[1].filter == nil {
		t.Fatal("a segment created by a write has no filter")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSegmented(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.segs[1].filter != nil {
		t.Fatal("a segment opened from disk has a filter")
	}
	for _, tc := range []struct {
		key  []byte
		want string
	}{{timeKey(150, "a"), "1"}, {timeKey(150, "b"), ""}} {
		v, ok, err := s.Get(tc.key)
		if err != nil || string(v) != tc.want || ok != (tc.want != "") {
			t.Fatalf("Get %q = %q %v %v, want %q", tc.key, v, ok, err, tc.want)
		}
	}
	if err := s.Put(timeKey(250, "c"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if s.segs[2].filter == nil {
		t.Fatal("a new segment after reopening has no filter")
	}
	if v, ok, err := s.Get(timeKey(250, "c")); err != nil || !ok || string(v) != "2" {
		t.Fatalf("Get of the new segment's key = %q %v %v", v, ok, err)
	}
}
