package log

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// fakeClock is a settable clock for age, retention and compaction tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func smallConfig() Config {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 4096
	cfg.IndexIntervalBytes = 200
	return cfg
}

// rec makes a record whose value names it, so tests can tell records apart.
func rec(key string, value string, ts int64) batch.Record {
	r := batch.Record{Timestamp: ts}
	if key != "" {
		r.Key = []byte(key)
	}
	if value != "" {
		r.Value = []byte(value)
	}
	return r
}

func encode(t testing.TB, opts batch.BuilderOptions, recs ...batch.Record) []byte {
	t.Helper()
	b := batch.NewBuilder(opts)
	for _, r := range recs {
		b.Add(r)
	}
	out, err := b.Build(nil)
	if err != nil {
		t.Fatalf("build batch: %v", err)
	}
	return out
}

func openLog(t testing.TB, fs vfs.FS, cfg Config) *Log {
	t.Helper()
	l, err := Open(fs, "p0", cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

type stored struct {
	Offset    int64
	Timestamp int64
	Key       string
	Value     string
	Null      bool
}

// readAll reads every visible record through ReadBatches, checking that
// batches come back in offset order.
func readAll(t testing.TB, l *Log, from int64) []stored {
	t.Helper()
	var out []stored
	_, hw, _ := l.Offsets()
	next := from
	for next < hw {
		data, _, err := l.ReadBatches(next, 1000, nil)
		if err != nil {
			t.Fatalf("read at %d: %v", next, err)
		}
		if len(data) == 0 {
			t.Fatalf("empty read at %d below high watermark %d", next, hw)
		}
		for len(data) > 0 {
			b, rest, err := batch.Next(data)
			if err != nil {
				t.Fatalf("split: %v", err)
			}
			it, err := batch.NewIterator(b)
			if err != nil {
				t.Fatalf("iterate: %v", err)
			}
			for it.Next() {
				r := it.Record()
				if r.Offset < next {
					continue
				}
				out = append(out, stored{r.Offset, r.Timestamp, string(r.Key), string(r.Value), r.Value == nil})
			}
			if err := it.Err(); err != nil {
				t.Fatalf("records: %v", err)
			}
			h, _ := batch.ParseHeader(b)
			next = h.LastOffset() + 1
			data = rest
		}
	}
	return out
}

func TestAppendReadAcrossRolls(t *testing.T) {
	for _, codec := range []batch.Codec{batch.None, batch.Zstd} {
		t.Run(codec.String(), func(t *testing.T) {
			fs := vfs.NewMem()
			l := openLog(t, fs, smallConfig())
			var want []stored
			for i := 0; i < 200; i++ {
				n := 1 + i%5
				var recs []batch.Record
				for j := 0; j < n; j++ {
					v := fmt.Sprintf("value-%d-%d-%s", i, j, bytes.Repeat([]byte("x"), i%40))
					recs = append(recs, rec(fmt.Sprintf("k%d", j), v, int64(1000+i)))
				}
				res, err := l.Append(encode(t, batch.BuilderOptions{Codec: codec}, recs...))
				if err != nil {
					t.Fatalf("append %d: %v", i, err)
				}
				if res.LastOffset-res.BaseOffset != int64(n-1) {
					t.Fatalf("append %d: offsets %d..%d for %d records", i, res.BaseOffset, res.LastOffset, n)
				}
				for j, r := range recs {
					want = append(want, stored{res.BaseOffset + int64(j), r.Timestamp, string(r.Key), string(r.Value), false})
				}
			}
			if segs := len(l.segs); segs < 5 {
				t.Fatalf("expected several segments, got %d", segs)
			}
			check := func(l *Log) {
				got := readAll(t, l, 0)
				if len(got) != len(want) {
					t.Fatalf("read %d records, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("record %d: got %+v want %+v", i, got[i], want[i])
					}
				}
			}
			check(l)
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openLog(t, fs, smallConfig())
			defer l.Close()
			check(l)
			// Appends continue where the log ended.
			res, err := l.Append(encode(t, batch.BuilderOptions{}, rec("a", "b", 5)))
			if err != nil || res.BaseOffset != int64(len(want)) {
				t.Fatalf("append after reopen: %+v %v, want base %d", res, err, len(want))
			}
		})
	}
}

func TestReadAtEveryOffset(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallConfig())
	defer l.Close()
	for i := 0; i < 100; i++ {
		recs := []batch.Record{rec("k", fmt.Sprint(3*i), 1), rec("k", fmt.Sprint(3*i+1), 2), rec("k", fmt.Sprint(3*i+2), 3)}
		if _, err := l.Append(encode(t, batch.BuilderOptions{}, recs...)); err != nil {
			t.Fatal(err)
		}
	}
	for off := int64(0); off < 300; off++ {
		data, res, err := l.ReadBatches(off, 1, nil)
		if err != nil {
			t.Fatalf("read %d: %v", off, err)
		}
		h, err := batch.Validate(data, false)
		if err != nil {
			t.Fatalf("read %d: one whole batch expected for maxBytes 1: %v", off, err)
		}
		if h.BaseOffset > off || h.LastOffset() < off {
			t.Fatalf("read %d returned batch %d..%d", off, h.BaseOffset, h.LastOffset())
		}
		if res.HighWatermark != 300 || res.LogStartOffset != 0 {
			t.Fatalf("bounds %+v", res)
		}
	}
	if _, _, err := l.ReadBatches(301, 100, nil); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
	data, _, err := l.ReadBatches(300, 100, nil)
	if err != nil || len(data) != 0 {
		t.Fatalf("read at high watermark: %d bytes, %v", len(data), err)
	}
	// maxBytes limits the run to whole batches.
	data, _, err = l.ReadBatches(0, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 1000 {
		t.Fatalf("read %d bytes with maxBytes 1000", len(data))
	}
	for len(data) > 0 {
		_, rest, err := batch.Next(data)
		if err != nil {
			t.Fatalf("partial batch in read: %v", err)
		}
		data = rest
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallConfig())
	defer l.Close()
	// Timestamps go up by 10 per record, but out of order inside batches.
	var ts []int64
	for i := 0; i < 120; i++ {
		base := int64(i * 40)
		recs := []batch.Record{rec("k", "a", base+20), rec("k", "b", base), rec("k", "c", base+30), rec("k", "d", base+10)}
		for _, r := range recs {
			ts = append(ts, r.Timestamp)
		}
		if _, err := l.Append(encode(t, batch.BuilderOptions{}, recs...)); err != nil {
			t.Fatal(err)
		}
	}
	for target := int64(-5); target < int64(120*40+20); target += 7 {
		wantOff := int64(-1)
		for i, x := range ts {
			if x >= target {
				wantOff = int64(i)
				break
			}
		}
		off, gotTs, ok, err := l.OffsetForTimestamp(target)
		if err != nil {
			t.Fatal(err)
		}
		if wantOff < 0 {
			if ok {
				t.Fatalf("ts %d: got offset %d, want none", target, off)
			}
			continue
		}
		if !ok || off != wantOff || gotTs != ts[wantOff] {
			t.Fatalf("ts %d: got %d (ts %d, ok %v), want %d (ts %d)", target, off, gotTs, ok, wantOff, ts[wantOff])
		}
	}
}

func TestAppendRejectsInvalidBatches(t *testing.T) {
	l := openLog(t, vfs.NewMem(), smallConfig())
	defer l.Close()
	good := encode(t, batch.BuilderOptions{}, rec("k", "v", 1))
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 1
	big := encode(t, batch.BuilderOptions{}, rec("k", string(bytes.Repeat([]byte("v"), 2000)), 1))
	cfg := smallConfig()
	cfg.MaxBatchBytes = 1000
	if err := l.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalidBatch},
		{"bad crc", flipped, batch.ErrBadCRC},
		{"truncated", good[:len(good)-3], batch.ErrTruncated},
		{"good then bad", append(append([]byte(nil), good...), flipped...), batch.ErrBadCRC},
		{"too large", big, ErrBatchTooLarge},
	}
	for _, c := range cases {
		if _, err := l.Append(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, _, end := l.Offsets(); end != 0 {
		t.Fatalf("rejected appends wrote data: end offset %d", end)
	}
	if l.Size() != 0 {
		t.Fatalf("rejected appends wrote %d bytes", l.Size())
	}
}
