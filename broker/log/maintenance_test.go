package log

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

func TestRetentionByTime(t *testing.T) {
	clock := &fakeClock{now: time.UnixMilli(1_000_000)}
	cfg := smallConfig()
	cfg.Now = clock.Now
	cfg.RetentionTime = time.Hour
	l := openLog(t, vfs.NewMem(), cfg)
	defer l.Close()
	// Records stamped an hour apart in blocks, each block spanning segments.
	for block := int64(0); block < 3; block++ {
		for i := 0; i < 40; i++ {
			ts := 1_000_000 + block*3_600_000
			if _, err := l.Append(encode(t, batch.BuilderOptions{}, rec("k", fmt.Sprintf("%d-%d-%0200d", block, i, 0), ts))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// now = the last block's time + 30 min: only block 0 and 1 segments
	// whose newest record is over an hour old may go.
	clock.now = time.UnixMilli(1_000_000 + 2*3_600_000 + 1_800_000)
	n, err := l.EnforceRetention()
	if err != nil || n == 0 {
		t.Fatalf("retention deleted %d segments, %v", n, err)
	}
	start, _, _ := l.Offsets()
	recs := readAll(t, l, start)
	for _, r := range recs {
		if r.Timestamp < 1_000_000+3_600_000 {
			t.Fatalf("record at %d with ts %d survived time retention", r.Offset, r.Timestamp)
		}
	}
	// A segment holding any block-1 record may straddle; but every block-2
	// record is still there and block 0 is gone entirely.
	if recs[len(recs)-1].Offset != 119 || recs[0].Offset != start {
		t.Fatalf("remaining offsets %d..%d, start %d", recs[0].Offset, recs[len(recs)-1].Offset, start)
	}
	if _, _, err := l.ReadBatches(start-1, 100, nil); err == nil {
		t.Fatalf("read below the new log start succeeded")
	}
}

func TestRetentionByBytes(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 10_000
	cfg.RetentionTime = -1
	l := openLog(t, vfs.NewMem(), cfg)
	defer l.Close()
	for i := 0; i < 200; i++ {
		if _, err := l.Append(encode(t, batch.BuilderOptions{}, rec("k", fmt.Sprintf("%0300d", i), 0))); err != nil {
			t.Fatal(err)
		}
	}
	before := l.Size()
	if _, err := l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	after := l.Size()
	if after > 10_000+cfg.SegmentBytes || after < 10_000 {
		t.Fatalf("size after retention %d (before %d), want within one segment above 10000", after, before)
	}
	start, _, end := l.Offsets()
	if start == 0 || end != 200 {
		t.Fatalf("offsets after retention: start %d end %d", start, end)
	}
	if got := readAll(t, l, start); len(got) != int(end-start) {
		t.Fatalf("read %d records after retention, want %d", len(got), end-start)
	}
}

// compactWorkload appends random keyed updates and tombstones and returns
// the expected latest value per key among all appended records.
func compactWorkload(t *testing.T, l *Log, rng *rand.Rand, n int, clock *fakeClock) map[string]stored {
	latest := map[string]stored{}
	for i := 0; i < n; i++ {
		var recs []batch.Record
		for j := 0; j < 1+rng.IntN(4); j++ {
			key := fmt.Sprintf("key-%03d", rng.IntN(400))
			r := rec(key, fmt.Sprintf("v%d-%d", i, j), clock.now.UnixMilli())
			if rng.IntN(8) == 0 {
				r.Value = nil
			}
			recs = append(recs, r)
		}
		res, err := l.Append(encode(t, batch.BuilderOptions{Codec: batch.Codec(rng.IntN(2) * 4)}, recs...))
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range recs {
			latest[string(r.Key)] = stored{res.BaseOffset + int64(j), r.Timestamp, string(r.Key), string(r.Value), r.Value == nil}
		}
		clock.Advance(time.Second)
	}
	return latest
}

func TestCompaction(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(7), 0))
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	cfg := smallConfig()
	cfg.Delete, cfg.Compact = false, true
	cfg.TombstoneRetention = time.Hour
	cfg.Now = clock.Now
	fs := vfs.NewMem()
	l := openLog(t, fs, cfg)
	latest := compactWorkload(t, l, rng, 400, clock)
	before := readAll(t, l, 0)
	_, _, end := l.Offsets()

	st, err := l.Compact()
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewritten == 0 || st.RecordsDropped == 0 {
		t.Fatalf("compaction did nothing: %+v", st)
	}
	after := readAll(t, l, 0)
	checkCompacted(t, l, before, after, latest, false)
	if st.TombstonesKept == 0 {
		t.Fatalf("tombstones inside retention were not kept: %+v", st)
	}
	// Past the tombstone retention, tombstones that are the latest of their
	// key go from sealed segments.
	clock.Advance(2 * time.Hour)
	if _, err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	after2 := readAll(t, l, 0)
	checkCompacted(t, l, before, after2, latest, true)
	if _, _, end2 := l.Offsets(); end2 != end {
		t.Fatalf("compaction moved the end offset from %d to %d", end, end2)
	}
	// It all survives a clean restart and an unclean one.
	l.Close()
	crashed := fs.CrashClone(vfs.CrashOptions{})
	for _, f := range []*vfs.MemFS{fs, crashed} {
		l2 := openLog(t, f, cfg)
		if got := readAll(t, l2, 0); fmt.Sprint(got) != fmt.Sprint(after2) {
			t.Fatalf("compacted log differs after reopen")
		}
		l2.Close()
	}
}

// checkCompacted checks a compacted log against its input: offsets and
// record contents are unchanged for what is kept, the active segment is
// untouched, and in sealed segments only a key's latest record remains
// (tombstones too, unless expired).
func checkCompacted(t *testing.T, l *Log, before, after []stored, latest map[string]stored, tombstonesExpired bool) {
	t.Helper()
	active := l.segs[len(l.segs)-1].base
	byOffset := map[int64]stored{}
	for _, r := range before {
		byOffset[r.Offset] = r
	}
	kept := map[int64]bool{}
	for _, r := range after {
		if byOffset[r.Offset] != r {
			t.Fatalf("offset %d changed: %+v, was %+v", r.Offset, r, byOffset[r.Offset])
		}
		kept[r.Offset] = true
	}
	for _, r := range before {
		isLatest := latest[r.Key].Offset == r.Offset
		switch {
		case r.Offset >= active:
			if !kept[r.Offset] {
				t.Fatalf("record %d in the active segment was removed", r.Offset)
			}
		case !isLatest && kept[r.Offset]:
			t.Fatalf("superseded record %d (key %s) kept", r.Offset, r.Key)
		case isLatest && !r.Null && !kept[r.Offset]:
			t.Fatalf("latest record %d of key %s removed", r.Offset, r.Key)
		case isLatest && r.Null && kept[r.Offset] == tombstonesExpired:
			t.Fatalf("tombstone %d of key %s: kept=%v with expired=%v", r.Offset, r.Key, kept[r.Offset], tombstonesExpired)
		}
	}
}

// TestCompactionCrashAtEveryStep fails the filesystem at each operation of a
// compaction pass in turn, crashes, reopens, and checks the log reads either
// as before or as after compaction, never a mix that loses a latest value.
func TestCompactionCrashAtEveryStep(t *testing.T) {
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	cfg := smallConfig()
	cfg.Delete, cfg.Compact = false, true
	cfg.Now = clock.Now
	base := vfs.NewMem()
	l := openLog(t, base, cfg)
	latest := compactWorkload(t, l, rand.New(rand.NewPCG(uint64(3), 0)), 200, clock)
	before := readAll(t, l, 0)
	l.Close()
	for step := 1; ; step++ {
		fs := base.CrashClone(vfs.CrashOptions{})
		faulty := vfs.NewFaultFS(fs, func(vfs.Op, string) error { return nil })
		l, err := Open(faulty, "p0", cfg)
		if err != nil {
			t.Fatalf("step %d: open before compaction failed: %v", step, err)
		}
		faulty.SetInjector(vfs.FailAfter(step, vfs.OpCreate, vfs.OpWrite, vfs.OpWriteAt, vfs.OpSync, vfs.OpSyncDir, vfs.OpRename, vfs.OpRemove))
		_, cerr := l.Compact()
		crashed := fs.CrashClone(vfs.CrashOptions{})
		l2, err := Open(crashed, "p0", cfg)
		if err != nil {
			t.Fatalf("step %d: reopen after crash: %v", step, err)
		}
		after := readAll(t, l2, 0)
		checkSubset(t, step, before, after, latest)
		l2.Close()
		if cerr == nil {
			if step < 5 {
				t.Fatalf("compaction finished after only %d operations", step)
			}
			break
		}
	}
}

// checkSubset checks that after holds only records of before, unchanged,
// including every key's latest record.
func checkSubset(t *testing.T, step int, before, after []stored, latest map[string]stored) {
	t.Helper()
	byOffset := map[int64]stored{}
	for _, r := range before {
		byOffset[r.Offset] = r
	}
	kept := map[int64]bool{}
	for _, r := range after {
		if byOffset[r.Offset] != r {
			t.Fatalf("step %d: offset %d changed: %+v", step, r.Offset, r)
		}
		kept[r.Offset] = true
	}
	for _, r := range latest {
		if !kept[r.Offset] {
			t.Fatalf("step %d: latest record %d of key %s lost", step, r.Offset, r.Key)
		}
	}
}
