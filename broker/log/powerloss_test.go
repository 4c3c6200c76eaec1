package log

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// TestPowerLossKeepsAcknowledgedAppends runs randomized concurrent appends,
// "pulls the plug" at a random moment (a crash clone of the memory
// filesystem, keeping synced data and, at random, some unsynced data), and
// checks after reopening that every acknowledged append is present exactly
// once at the offsets it was acknowledged with, that offsets are contiguous,
// and that the log accepts appends again. It repeats over several crashes of
// the same evolving log.
func TestPowerLossKeepsAcknowledgedAppends(t *testing.T) {
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for seed := 0; seed < seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { powerLossRun(t, int64(seed)) })
	}
}

type ack struct {
	id         string
	base, last int64
}

func powerLossRun(t *testing.T, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	fs := vfs.NewMem()
	cfg := smallConfig()
	cfg.SegmentBytes = int64(2048 + rng.IntN(4096))
	var acked []ack // every acknowledged append so far, across crashes
	for crash := 0; crash < 4; crash++ {
		l, err := Open(fs, "p0", cfg)
		if err != nil {
			t.Fatalf("crash %d: reopen: %v", crash, err)
		}
		verify(t, l, acked)
		var (
			mu      sync.Mutex
			wg      sync.WaitGroup
			stop    = make(chan struct{})
			writers = 1 + rng.IntN(4)
		)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			wrng := rand.New(rand.NewPCG(uint64(rng.Int64()), 0))
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("c%d-w%d-%d", crash, w, i)
					n := 1 + wrng.IntN(6)
					var recs []batch.Record
					for j := 0; j < n; j++ {
						recs = append(recs, rec(id, id+"/"+strconv.Itoa(j)+":"+strings.Repeat("p", wrng.IntN(300)), int64(i)))
					}
					res, err := l.Append(encode(t, batch.BuilderOptions{}, recs...))
					if err != nil {
						return // the log is being abandoned by the crash
					}
					mu.Lock()
					acked = append(acked, ack{id, res.BaseOffset, res.LastOffset})
					mu.Unlock()
				}
			}(w)
		}
		// Let some appends happen, then crash.
		for i := 0; i < 5+rng.IntN(40); i++ {
			_, _, _ = l.Offsets()
			runtimeYield()
		}
		mu.Lock()
		ackedBefore := append([]ack(nil), acked...)
		mu.Unlock()
		crashed := fs.CrashClone(vfs.CrashOptions{Rand: rng, KeepUnsyncedProb: 0.5})
		close(stop)
		l.Close()
		wg.Wait()
		// Appends acknowledged after the clone was taken may be lost.
		acked = ackedBefore
		fs = crashed
		// Offsets acknowledged after the crash point but lost are reused;
		// forget them so that later verification does not expect them.
	}
	l, err := Open(fs, "p0", cfg)
	if err != nil {
		t.Fatalf("final reopen: %v", err)
	}
	defer l.Close()
	verify(t, l, acked)
}

// verify checks acknowledged appends against the log and that offsets are
// contiguous from the start, then makes acked match the log exactly for
// appends that survived without being acknowledged.
func verify(t *testing.T, l *Log, acked []ack) {
	t.Helper()
	recs := readAll(t, l, 0)
	for i, r := range recs {
		if r.Offset != int64(i) {
			t.Fatalf("offsets not contiguous: record %d has offset %d", i, r.Offset)
		}
	}
	seen := map[string]int{}
	for _, r := range recs {
		if seen[r.Value]++; seen[r.Value] > 1 {
			t.Fatalf("record %q stored twice", r.Value)
		}
	}
	for _, a := range acked {
		if a.last >= int64(len(recs)) {
			t.Fatalf("acknowledged append %s at %d..%d lost: log has %d records", a.id, a.base, a.last, len(recs))
		}
		for off := a.base; off <= a.last; off++ {
			want := a.id + "/" + strconv.FormatInt(off-a.base, 10) + ":"
			if got := recs[off].Value; !strings.HasPrefix(got, want) || recs[off].Key != a.id {
				t.Fatalf("acknowledged append %s: offset %d holds %q, want %q", a.id, off, got, want)
			}
		}
	}
}

func runtimeYield() { runtime.Gosched(); time.Sleep(100 * time.Microsecond) }
