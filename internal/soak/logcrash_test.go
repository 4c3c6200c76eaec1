package soak

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// The test binary doubles as the writer process: with this variable set,
// TestMain runs the writer instead of the tests.
const childEnv = "EDDY_LOGCRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		cycle, _ := strconv.Atoi(os.Getenv("EDDY_LOGCRASH_CYCLE"))
		if err := runWriter(dir, cycle); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashConfig() log.Config {
	cfg := log.DefaultConfig()
	cfg.SegmentBytes = 256 << 10 // roll often, so kills land in rolls too
	return cfg
}

// runWriter appends from several goroutines until killed, printing
// "ack <base> <last> <id>" once each append is acknowledged (fsynced).
func runWriter(dir string, cycle int) error {
	l, err := log.Open(vfs.OS(), dir, crashConfig())
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(cycle*10 + w)))
			b := batch.NewBuilder(batch.BuilderOptions{})
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%d-w%d-%d", cycle, w, i)
				b.Reset()
				n := 1 + rng.Intn(20)
				for j := 0; j < n; j++ {
					b.Add(batch.Record{Key: []byte(id), Value: []byte(id + "/" + strconv.Itoa(j) + ":" + strings.Repeat("x", rng.Intn(500))), Timestamp: time.Now().UnixMilli()})
				}
				data, err := b.Build(nil)
				if err != nil {
					panic(err)
				}
				res, err := l.Append(data)
				if err != nil {
					fmt.Fprintln(os.Stderr, "append:", err)
					os.Exit(1)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d %d %s\n", res.BaseOffset, res.LastOffset, id)
				out.Flush()
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return nil
}

type ack struct {
	id         string
	base, last int64
}

// TestCrashLoop kills a writer process with SIGKILL at random moments and
// checks after each kill that every acknowledged append is in the log,
// exactly once, at its acknowledged offsets, with offsets contiguous.
func TestCrashLoop(t *testing.T) {
	cycles := 5
	if s := os.Getenv("EDDY_SOAK_CYCLES"); s != "" {
		cycles, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var acked []ack
	total := time.Duration(0)
	for cycle := 0; cycle < cycles; cycle++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dir, "EDDY_LOGCRASH_CYCLE="+strconv.Itoa(cycle))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan []ack, 1)
		go func() {
			var got []ack
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var a ack
				if _, err := fmt.Sscanf(sc.Text(), "ack %d %d %s", &a.base, &a.last, &a.id); err == nil {
					got = append(got, a)
				}
			}
			lines <- got
		}()
		life := time.Duration(50+rng.Intn(700)) * time.Millisecond
		time.Sleep(life)
		total += life
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("cycle %d: kill: %v", cycle, err)
		}
		got := <-lines
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("cycle %d: writer exited on its own before the kill: %v", cycle, err)
		}
		acked = append(acked, got...)
		n := verifyLog(t, dir, acked, cycle%2 == 0)
		t.Logf("cycle %d: killed after %v, %d appends acknowledged this cycle, log holds %d records", cycle, life, len(got), n)
	}
	t.Logf("%d cycles, %d acknowledged appends, all present exactly once", cycles, len(acked))
}

// verifyLog opens the log as recovery would and checks acknowledged appends.
func verifyLog(t *testing.T, dir string, acked []ack, closeCleanly bool) int {
	t.Helper()
	l, err := log.Open(vfs.OS(), dir, crashConfig())
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer func() {
		if closeCleanly {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}()
	var values []string
	var keys []string
	_, hw, _ := l.Offsets()
	for next := int64(0); next < hw; {
		data, _, err := l.ReadBatches(next, 1<<20, nil)
		if err != nil {
			t.Fatalf("read at %d: %v", next, err)
		}
		for len(data) > 0 {
			b, rest, err := batch.Next(data)
			if err != nil {
				t.Fatal(err)
			}
			it, err := batch.NewIterator(b)
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				r := it.Record()
				if r.Offset != int64(len(values)) {
					t.Fatalf("offsets not contiguous: %d after %d records", r.Offset, len(values))
				}
				values = append(values, string(r.Value))
				keys = append(keys, string(r.Key))
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			data = rest
			next = int64(len(values))
		}
	}
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if seen[v] {
			t.Fatalf("record %.40q stored twice", v)
		}
		seen[v] = true
	}
	for _, a := range acked {
		for off := a.base; off <= a.last; off++ {
			want := a.id + "/" + strconv.FormatInt(off-a.base, 10) + ":"
			if off >= int64(len(values)) || keys[off] != a.id || !strings.HasPrefix(values[off], want) {
				t.Fatalf("acknowledged append %s (offsets %d..%d) missing at %d (log has %d records)", a.id, a.base, a.last, off, len(values))
			}
		}
	}
	return len(values)
}
