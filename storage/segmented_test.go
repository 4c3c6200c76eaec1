package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// openTestSegmented opens a segmented store for the contract suite: a key's
// time is its first byte in seconds, so keys spread over several 50-second
// segments, and nothing ever expires. Empty keys live in the base store.
func openTestSegmented(t testing.TB, onDisk bool) Store {
	t.Helper()
	opts := SegmentedOptions{
		Name: "seg",
		KeyTime: func(k []byte) (int64, bool, error) {
			if len(k) == 0 {
				return 0, false, nil
			}
			return int64(k[0]) * 1000, true, nil
		},
		SegmentInterval: 50_000,
		Retention:       1 << 50,
		LevelDB:         LevelDBOptions{WriteBufferBytes: 1 << 20},
	}
	var s *Segmented
	var err error
	if onDisk {
		s, err = OpenSegmented(t.TempDir(), opts)
	} else {
		s, err = NewSegmentedMemory(opts)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// timeKeyOptions makes keys "t" + 8-byte big-endian time; keys starting
// with "m" have no time (base store).
func timeKeyOptions(interval, retention int64) SegmentedOptions {
	return SegmentedOptions{
		Name: "windows",
		KeyTime: func(k []byte) (int64, bool, error) {
			switch {
			case len(k) > 0 && k[0] == 'm':
				return 0, false, nil
			case len(k) >= 9 && k[0] == 't':
				return int64(binary.BigEndian.Uint64(k[1:9])), true, nil
			}
			return 0, false, fmt.Errorf("no time in key %q", k)
		},
		// Ranges between two timed keys hold keys of those times or between.
		RangeTimes: func(start, end []byte) (int64, int64, bool) {
			if len(start) < 9 || len(end) < 9 || start[0] != 't' || end[0] != 't' {
				return 0, 0, false
			}
			return int64(binary.BigEndian.Uint64(start[1:9])), int64(binary.BigEndian.Uint64(end[1:9])), true
		},
		SegmentInterval: interval,
		Retention:       retention,
		LevelDB:         LevelDBOptions{WriteBufferBytes: 1 << 20},
	}
}

func timeKey(ts int64, suffix string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte{'t'}, uint64(ts)), suffix...)
}

func segmentDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSegmentedDropsWholeSegmentsAsTimeAdvances(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSegmented(dir, timeKeyOptions(100, 250))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, "meta", "kept forever")
	for ts := int64(0); ts < 400; ts += 10 {
		if err := s.Put(timeKey(ts, "a"), []byte(fmt.Sprint(ts))); err != nil {
			t.Fatal(err)
		}
	}
	// Observed 390, retention 250: times below 140 are expired; segment 0
	// ([0, 100)) is gone, segment 1 ([100, 200)) still holds 140..190.
	if got := s.Segments(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("segments %v, want [1 2 3]", got)
	}
	if got := segmentDirs(t, dir); !slices.Equal(got, []string{"base", "seg-1", "seg-2", "seg-3"}) {
		t.Fatalf("directories %v", got)
	}
	for _, ts := range []int64{0, 90, 100, 130} {
		if _, ok, _ := s.Get(timeKey(ts, "a")); ok {
			t.Errorf("expired key at %d still readable", ts)
		}
	}
	if v, ok, _ := s.Get(timeKey(140, "a")); !ok || string(v) != "140" {
		t.Fatalf("live key at 140: %q %v", v, ok)
	}
	got := scan(t, s, nil, nil)
	if len(got) != 1+26 || got[0].k != "meta" || got[1].v != "140" {
		t.Fatalf("scan: %d entries, first %v, last %v", len(got), got[0], got[len(got)-1])
	}
	// Writes of expired keys are skipped, deletes of them are no-ops.
	if err := s.Put(timeKey(50, "late"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(timeKey(20, "a")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(timeKey(50, "late")); ok || slices.Contains(s.Segments(), 0) {
		t.Fatal("an expired put recreated its segment")
	}
	// One batch that moves time far ahead expires everything before it,
	// including its own old keys.
	err = s.Apply([]Mutation{{Key: timeKey(150, "b"), Value: []byte("old")}, {Key: timeKey(1000, "b"), Value: []byte("new")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Segments(); !slices.Equal(got, []int64{10}) {
		t.Fatalf("segments after jump %v, want [10]", got)
	}
	if got := scan(t, s, nil, nil); len(got) != 2 || got[0].v != "kept forever" || got[1].v != "new" {
		t.Fatalf("scan after jump: %v", got)
	}
}

func TestSegmentedReopenKeepsStateAndExpiresOnNextPut(t *testing.T) {
	dir := t.TempDir()
	opts := timeKeyOptions(100, 150)
	s, err := OpenSegmented(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for ts := int64(0); ts < 300; ts += 25 {
		if err := s.Put(timeKey(ts, ""), []byte{byte(ts)}); err != nil {
			t.Fatal(err)
		}
	}
	mustPut(t, s, "m", "meta")
	before := scan(t, s, nil, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSegmented(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Reopened, the observed time is the newest segment's start (200),
	// which hides nothing that was visible before (live from 125 then,
	// from 50 now).
	if s.Observed() != 200 {
		t.Fatalf("observed after reopen %d, want 200", s.Observed())
	}
	if after := scan(t, s, nil, nil); len(after) < len(before) {
		t.Fatalf("reopen lost entries: %v, before %v", after, before)
	}
	if err := s.Put(timeKey(400, ""), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := s.Segments(); !slices.Equal(got, []int64{2, 4}) {
		t.Fatalf("segments %v, want [2 4]", got)
	}
	if v, ok := mustGet(t, s, "m"); !ok || v != "meta" {
		t.Fatalf("base key after reopen: %q %v", v, ok)
	}
}

func TestSegmentedIteratorOutlivesDroppedSegment(t *testing.T) {
	for _, onDisk := range []bool{true, false} {
		t.Run(fmt.Sprint("onDisk=", onDisk), func(t *testing.T) {
			dir := t.TempDir()
			var s *Segmented
			var err error
			if onDisk {
				s, err = OpenSegmented(dir, timeKeyOptions(100, 100))
			} else {
				s, err = NewSegmentedMemory(timeKeyOptions(100, 100))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for ts := int64(0); ts < 100; ts += 10 {
				if err := s.Put(timeKey(ts, ""), []byte("v")); err != nil {
					t.Fatal(err)
				}
			}
			it, err := s.Range(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Put(timeKey(500, ""), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if got := s.Segments(); !slices.Equal(got, []int64{5}) {
				t.Fatalf("segments %v", got)
			}
			if onDisk && !slices.Contains(segmentDirs(t, dir), "seg-0") {
				t.Fatal("segment deleted while an iterator reads it")
			}
			if n := len(collect(t, it)); n != 10 {
				t.Fatalf("iterator saw %d entries of its snapshot, want 10", n)
			}
			if onDisk && slices.Contains(segmentDirs(t, dir), "seg-0") {
				t.Fatal("dropped segment not deleted after its last iterator closed")
			}
		})
	}
}

// TestSegmentedAgainstModel runs random puts, deletes and batches with
// times moving mostly forward against a map that applies the expiry rule
// key by key, comparing Get, Range and ReverseRange.
func TestSegmentedAgainstModel(t *testing.T) {
	for _, onDisk := range []bool{true, false} {
		t.Run(fmt.Sprint("onDisk=", onDisk), func(t *testing.T) {
			const interval, retention = 40, 100
			opts := timeKeyOptions(interval, retention)
			var s *Segmented
			var err error
			if onDisk {
				s, err = OpenSegmented(t.TempDir(), opts)
			} else {
				s, err = NewSegmentedMemory(opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			r := rand.New(rand.NewPCG(7, 11))
			model := map[string]string{}
			observed := int64(-1 << 62)
			now := int64(0)
			key := func() []byte {
				if r.IntN(20) == 0 {
					return []byte(fmt.Sprintf("m%d", r.IntN(3)))
				}
				return timeKey(max(0, now-r.Int64N(2*retention)), fmt.Sprint(r.IntN(4)))
			}
			expired := func(k string) bool {
				ts, ok, _ := opts.KeyTime([]byte(k))
				return ok && ts < observed-retention
			}
			apply := func(ms []Mutation) {
				for _, m := range ms {
					if ts, ok, _ := opts.KeyTime(m.Key); ok && !m.Delete {
						observed = max(observed, ts)
					}
				}
				for _, m := range ms {
					if expired(string(m.Key)) {
						continue
					}
					if m.Delete {
						delete(model, string(m.Key))
					} else {
						model[string(m.Key)] = string(m.Value)
					}
				}
				for k := range model {
					if expired(k) {
						delete(model, k)
					}
				}
			}
			for step := range 3000 {
				now += r.Int64N(5)
				var ms []Mutation
				for range 1 + r.IntN(3) {
					m := Mutation{Key: key(), Value: []byte(fmt.Sprint(step))}
					m.Delete = r.IntN(4) == 0
					ms = append(ms, m)
				}
				if err := s.Apply(ms); err != nil {
					t.Fatal(err)
				}
				apply(ms)
				if step%50 != 0 {
					continue
				}
				var want []kv
				for k, v := range model {
					want = append(want, kv{k, v})
				}
				slices.SortFunc(want, func(a, b kv) int { return compareStrings(a.k, b.k) })
				if got := scan(t, s, nil, nil); !equalKVs(got, want) {
					t.Fatalf("step %d: scan\n got %v\nwant %v", step, got, want)
				}
				if got := reverseScan(t, s, nil, nil); !equalKVs(got, reversed(want)) {
					t.Fatalf("step %d: reverse scan differs", step)
				}
				// A range between two times reads only their segments.
				a, b := max(0, now-r.Int64N(3*retention)), max(0, now-r.Int64N(retention))
				lo, hi := timeKey(min(a, b), ""), timeKey(max(a, b), "")
				var inRange []kv
				for _, w := range want {
					if w.k >= string(lo) && w.k < string(hi) {
						inRange = append(inRange, w)
					}
				}
				if got := scan(t, s, lo, hi); !equalKVs(got, inRange) {
					t.Fatalf("step %d: scan [%x, %x)\n got %v\nwant %v", step, lo, hi, got, inRange)
				}
				if got := reverseScan(t, s, lo, hi); !equalKVs(got, reversed(inRange)) {
					t.Fatalf("step %d: reverse scan [%x, %x) differs", step, lo, hi)
				}
				for _, w := range want {
					if v, ok := mustGet(t, s, w.k); !ok || v != w.v {
						t.Fatalf("step %d: Get(%q) = %q %v, want %q", step, w.k, v, ok, w.v)
					}
				}
				// No segment outlives its times' expiry.
				for _, id := range s.Segments() {
					if (id+1)*interval-1 < observed-retention {
						t.Fatalf("step %d: segment %d kept at observed %d", step, id, observed)
					}
				}
			}
		})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestDestroySegmented(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := OpenSegmented(dir, timeKeyOptions(100, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(timeKey(5, ""), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := DestroySegmented(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("destroying an open store: %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := DestroySegmented(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("store directory still there: %v", err)
	}
	if err := DestroySegmented(dir); err != nil {
		t.Fatalf("destroying a missing store: %v", err)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := DestroySegmented(other); !errors.Is(err, ErrNotStore) {
		t.Fatalf("destroying a foreign directory: %v, want ErrNotStore", err)
	}
	if _, err := OpenSegmented(other, timeKeyOptions(100, 1000)); !errors.Is(err, ErrNotStore) {
		t.Fatalf("opening a foreign directory: %v, want ErrNotStore", err)
	}
}
