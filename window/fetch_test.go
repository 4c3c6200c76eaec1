package window_test

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// TestFetchMatchesReference queries random ranges of every key, for each
// kind of window, and compares with the reference windows overlapping the
// range.
func TestFetchMatchesReference(t *testing.T) {
	const grace = 2 * time.Second
	evs := randomEvents(4, 1500, nKeys, 400*time.Millisecond, 10*time.Second, grace, 10*time.Second)
	keep := window.Retention(24 * time.Hour) // nothing expires within the input's span
	cases := []struct {
		name string
		agg  aggregation[int64]
		ref  *reference
	}{
		{"tumbling", func(g stream.Grouped[string, int64], o ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Tumbling(5*time.Second).Grace(grace), append(o, keep)...)
		}, referenceTime(evs, parts, 5*time.Second, 5*time.Second, grace)},
		{"hopping", func(g stream.Grouped[string, int64], o ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Hopping(10*time.Second, 3*time.Second).Grace(grace), append(o, keep)...)
		}, referenceTime(evs, parts, 10*time.Second, 3*time.Second, grace)},
		{"sliding", func(g stream.Grouped[string, int64], o ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Sliding(5*time.Second).Grace(grace), append(o, keep)...)
		}, referenceSliding(evs, parts, 5*time.Second, grace)},
		{"session", func(g stream.Grouped[string, int64], o ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Session(3*time.Second).Grace(grace), append(o, keep)...)
		}, referenceSessions(evs, parts, 3*time.Second, grace)},
	}
	first, last := evs[0].TS, evs[0].TS
	for _, e := range evs {
		first, last = min(first, e.TS), max(last, e.TS)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := start(t, c.agg, serde.Int64, nil, streamtest.ManualCommit())
			r.pipe(t, evs)
			rng := rand.New(rand.NewPCG(5, 6))
			for q := range 200 {
				key := fmt.Sprintf("k%d", rng.IntN(nKeys))
				from := first - 20_000 + rng.Int64N(last-first+40_000)
				to := from + rng.Int64N(30_000)
				if q%50 == 0 {
					from, to = first-100_000, last+100_000 // everything
				}
				got, err := window.Fetch(r.d.App(), r.tbl, key, from, to)
				if err != nil {
					t.Fatal(err)
				}
				var want []stream.KeyValue[window.Key[string], int64]
				for k, w := range c.ref.windows {
					if k.Key == key && k.Start <= to && k.End > from {
						want = append(want, stream.KeyValue[window.Key[string], int64]{Key: k, Value: int64(len(w.Values))})
					}
				}
				slices.SortFunc(want, func(a, b stream.KeyValue[window.Key[string], int64]) int {
					return cmp.Or(cmp.Compare(a.Key.Start, b.Key.Start), cmp.Compare(a.Key.End, b.Key.End))
				})
				if !slices.Equal(got, want) {
					t.Fatalf("Fetch(%s, %d, %d):\n got %v\nwant %v", key, from, to, got, want)
				}
			}
		})
	}
}

func TestFetchRefusesOtherTables(t *testing.T) {
	b := stream.NewBuilder("fetch")
	g := stream.From(b, "in", serde.String, serde.Int64).GroupByKey()
	counts := window.Count(g, window.Tumbling(time.Minute), window.Named("counts"))
	big := counts.Filter(func(_ window.Key[string], n int64) bool { return n > 2 })
	d, err := streamtest.New(b)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := window.Fetch(d.App(), big, "a", 0, 1); !errors.Is(err, window.ErrNotQueryable) || !errors.Is(err, table.ErrNotQueryable) {
		t.Fatalf("Fetch of a filtered table: %v, want ErrNotQueryable", err)
	}
	if _, err := window.LateRecords(d.App(), big); !errors.Is(err, window.ErrNotQueryable) {
		t.Fatalf("LateRecords of a filtered table: %v", err)
	}
	// table.Lookup cannot find windowed keys: it says so.
	if _, _, err := table.Lookup(d.App(), counts, window.Key[string]{Key: "a"}); !errors.Is(err, table.ErrNotQueryable) {
		t.Fatalf("table.Lookup of a windowed table: %v, want ErrNotQueryable", err)
	}
}

// dirBytes sums the sizes of the files under dir and lists its segment
// directories.
func dirBytes(t *testing.T, dir string) (int64, []string) {
	t.Helper()
	var total int64
	var segs []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && filepath.Dir(path) == dir {
			segs = append(segs, d.Name())
		}
		if !d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, segs
}

// TestOldWindowsExpireWholeSegments runs a LevelDB window store through
// hours of event time: segments come and go, queries stop seeing windows
// past the retention, and the store shrinks once time moves on.
func TestOldWindowsExpireWholeSegments(t *testing.T) {
	state := t.TempDir()
	b := stream.NewBuilder("expiry")
	g := stream.From(b, "in", serde.String, serde.Int64).GroupByKey()
	// Ten-second windows kept ten minutes: segments of five minutes.
	counts := window.Count(g, window.Tumbling(10*time.Second), window.Named("counts"), window.Retention(10*time.Minute))
	d, err := streamtest.New(b, streamtest.StateDir(state), streamtest.ManualCommit(),
		streamtest.AppConfig(stream.Config{CacheMaxBytes: 64 << 10}))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	storeDir := filepath.Join(state, "expiry", "0_0", "counts")
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	payload := int64(0)
	pipeHour := func(from int64) {
		t.Helper()
		for ts := from; ts < from+3_600_000; ts += 250 {
			for k := range 20 {
				payload++
				if err := in.PipeAt(fmt.Sprintf("key-%02d", k), payload, ts); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	pipeHour(minute0)
	size1, segs1 := dirBytes(t, storeDir)
	// An hour of ten-minute retention leaves the base store and two or
	// three five-minute segments (the last one still filling).
	if len(segs1) < 3 || len(segs1) > 4 {
		t.Fatalf("after an hour: segments %v", segs1)
	}
	got, err := window.Fetch(d.App(), counts, "key-07", minute0, minute0+3_600_000)
	if err != nil {
		t.Fatal(err)
	}
	// The newest ten minutes are there, each window with 40 records; older
	// ones still in a live segment are hidden.
	if len(got) != 61 {
		t.Fatalf("Fetch over the hour: %d windows, want the 61 retained", len(got))
	}
	for _, kv := range got {
		if kv.Value != 40 {
			t.Fatalf("window %v counted %d, want 40", kv.Key, kv.Value)
		}
	}
	// Retained: starts no older than the newest (+3590 s) minus ten minutes.
	if got[0].Key.Start != minute0+2_990_000 {
		t.Fatalf("oldest retained window starts at +%ds, want +2990s", (got[0].Key.Start-minute0)/1000)
	}
	// A day later, one record: every old segment goes, files and all.
	if err := in.PipeAt("key-00", 1, minute0+24*3_600_000); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	size2, segs2 := dirBytes(t, storeDir)
	if len(segs2) != 2 || slices.Equal(segs2, segs1) {
		t.Fatalf("a day later: segments %v (before %v), want the base store and one new segment", segs2, segs1)
	}
	if size2 >= size1 {
		t.Fatalf("store did not shrink: %d bytes, before %d", size2, size1)
	}
	if got, err := window.Fetch(d.App(), counts, "key-07", minute0, minute0+3_600_000); err != nil || len(got) != 0 {
		t.Fatalf("Fetch of the expired hour: %v, %v", got, err)
	}
}
