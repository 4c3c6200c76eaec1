package log

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// fillLog appends n batches of three records and returns the byte size of
// each batch, leaving the log open (not closed cleanly).
func fillLog(t *testing.T, l *Log, n int) []int {
	t.Helper()
	var sizes []int
	for i := 0; i < n; i++ {
		b := encode(t, batch.BuilderOptions{}, rec("k", fmt.Sprint(i), int64(i)), rec("k2", fmt.Sprint(i), int64(i)), rec("", "x", int64(i)))
		if _, err := l.Append(b); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(b))
	}
	return sizes
}

func activeSegmentPath(l *Log) string {
	return l.segs[len(l.segs)-1].path(logSuffix)
}

func TestTornTailTruncatedAtEveryByte(t *testing.T) {
	base := vfs.NewMem()
	l := openLog(t, base, smallConfig())
	sizes := fillLog(t, l, 30)
	last := sizes[len(sizes)-1]
	name := activeSegmentPath(l)
	// Everything was fsynced on ack; the crash clone holds all of it.
	for cut := 1; cut < last; cut++ {
		for _, garbage := range []bool{false, true} {
			t.Run(fmt.Sprintf("cut%d/garbage=%v", cut, garbage), func(t *testing.T) {
				fs := base.CrashClone(vfs.CrashOptions{})
				f, err := fs.OpenReadWrite(name)
				if err != nil {
					t.Fatal(err)
				}
				info, _ := f.Stat()
				size := info.Size()
				if err := f.Truncate(size - int64(cut)); err != nil {
					t.Fatal(err)
				}
				if garbage {
					// A torn write can leave junk rather than nothing.
					junk := make([]byte, cut)
					for i := range junk {
						junk[i] = byte(i*31 + 7)
					}
					if _, err := f.WriteAt(junk, size-int64(cut)); err != nil {
						t.Fatal(err)
					}
				}
				f.Close()
				l2 := openLog(t, fs, smallConfig())
				defer l2.Close()
				got := readAll(t, l2, 0)
				if len(got) != 3*(len(sizes)-1) {
					t.Fatalf("after a torn last batch: %d records, want %d", len(got), 3*(len(sizes)-1))
				}
				res, err := l2.Append(encode(t, batch.BuilderOptions{}, rec("k", "new", 1)))
				if err != nil || res.BaseOffset != int64(3*(len(sizes)-1)) {
					t.Fatalf("append after recovery: %+v %v", res, err)
				}
			})
		}
	}
	l.Close()
}

func TestBitFlipMidLogReported(t *testing.T) {
	fs := vfs.NewMem()
	l := openLog(t, fs, smallConfig())
	fillLog(t, l, 100)
	if len(l.segs) < 3 {
		t.Fatalf("want several segments, have %d", len(l.segs))
	}
	victim := l.segs[1]
	name, base := victim.path(logSuffix), victim.base
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := fs.OpenReadWrite(name)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one bit inside the second batch's records.
	var hdr [batch.HeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		t.Fatal(err)
	}
	h, _ := batch.ParseHeader(hdr[:])
	pos := int64(h.Size())
	var b [1]byte
	f.ReadAt(b[:], pos+batch.HeaderSize+3)
	b[0] ^= 0x10
	f.WriteAt(b[:], pos+batch.HeaderSize+3)
	f.Close()

	l = openLog(t, fs, smallConfig())
	defer l.Close()
	_, _, err = l.ReadBatches(base, 1<<20, nil)
	var ce *CorruptionError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || !errors.Is(err, batch.ErrBadCRC) {
		t.Fatalf("reading the damaged segment: %v, want a CorruptionError with ErrBadCRC", err)
	}
	if ce.File != name || ce.Position != pos {
		t.Fatalf("corruption reported at %s:%d, want %s:%d", ce.File, ce.Position, name, pos)
	}
	// Data before the damage is still served.
	if data, _, err := l.ReadBatches(base, 1, nil); err != nil || len(data) == 0 {
		t.Fatalf("reading the batch before the damage: %d bytes, %v", len(data), err)
	}
}

func TestUncleanStopBitFlipInSealedSegmentPastRecoveryPointIsCorruption(t *testing.T) {
	fs := vfs.NewMem()
	l := openLog(t, fs, smallConfig())
	fillLog(t, l, 100)
	victim := l.segs[1].path(logSuffix)
	crashed := fs.CrashClone(vfs.CrashOptions{})
	l.Close()
	// Pretend the recovery point is older, so the damaged sealed segment is
	// re-validated at open.
	if err := writeFileSync(crashed, filepath.Join("p0", recoveryPointFile), []byte("0\n")); err != nil {
		t.Fatal(err)
	}
	f, _ := crashed.OpenReadWrite(victim)
	var b [1]byte
	f.ReadAt(b[:], 100)
	b[0] ^= 1
	f.WriteAt(b[:], 100)
	f.Close()
	l2, err := Open(crashed, "p0", smallConfig())
	if err == nil {
		// Kafka's rule would cut the log here; eddy keeps it and refuses.
		l2.Close()
	}
	var ce *CorruptionError
	if err == nil || !errors.As(err, &ce) || ce.File != victim {
		t.Fatalf("open with a damaged sealed segment: %v, want CorruptionError in %s", err, victim)
	}
}
