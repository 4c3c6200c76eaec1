package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/benchmarks/internal/ceilings"
)

func main() {
	child := flag.String("broker-child", "", "internal: run the broker with this data dir")
	addr := flag.String("addr", "127.0.0.1:0", "internal: broker address")
	dir := flag.String("dir", "./.cache/wirebench", "scratch directory on the disk to measure")
	volume := flag.Int64("volume", 512<<20, "bytes produced per full-speed run")
	flag.Parse()
	if *child != "" {
		if err := runBrokerChild(*child, *addr); err != nil {
			fmt.Fprintln(os.Stderr, "wirebench broker:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dir, *volume); err != nil {
		fmt.Fprintln(os.Stderr, "wirebench:", err)
		os.Exit(1)
	}
}

func run(dir string, volume int64) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	disk, err := ceilings.DiskBandwidth(filepath.Join(dir, "raw"), volume)
	if err != nil {
		return err
	}
	loop, err := ceilings.LoopbackBandwidth(2 << 30)
	if err != nil {
		return err
	}
	fmt.Printf("ceilings: disk %.0f MB/s (sequential writes + fdatasync), loopback TCP %.0f MB/s\n\n", disk/1e6, loop/1e6)

	b, err := startBroker(filepath.Join(dir, "broker"))
	if err != nil {
		return err
	}
	defer b.stop()
	fmt.Printf("%-7s %-6s %12s %9s %8s %10s %10s\n", "record", "speed", "records/s", "MB/s", "% disk", "p50", "p99")
	var kib produceResult
	for _, size := range []int{100, 1024} {
		topic := fmt.Sprintf("bench-%d", size)
		full, err := produce(b.addr, topic, size, volume, 0)
		if err != nil {
			return err
		}
		fmt.Printf("%-7d %-6s %12.0f %9.1f %7.0f%% %10v %10v\n", size, "full", full.recordsPerSec, full.bytesPerSec/1e6, 100*full.bytesPerSec/disk, full.p50, full.p99)
		half, err := produce(b.addr, topic, size, volume/4, full.recordsPerSec/2)
		if err != nil {
			return err
		}
		fmt.Printf("%-7d %-6s %12.0f %9.1f %7.0f%% %10v %10v\n", size, "half", half.recordsPerSec, half.bytesPerSec/1e6, 100*half.bytesPerSec/disk, half.p50, half.p99)
		if size == 1024 {
			kib = full
		}
	}
	cons, err := consume(b.addr, "bench-1024")
	if err != nil {
		return err
	}
	rss, err := b.peakRSS()
	if err != nil {
		return err
	}
	fmt.Printf("\nconsume bench-1024 from the start: %.0f records/s, %.0f MB/s (%.1fx the acks=all produce rate; %.0f%% of loopback)\n",
		cons.recordsPerSec, cons.bytesPerSec/1e6, cons.bytesPerSec/kib.bytesPerSec, 100*cons.bytesPerSec/loop)
	fmt.Printf("broker peak RSS: %.0f MiB\n\n", float64(rss)/(1<<20))
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "BELOW"
	}
	fmt.Printf("targets: 1 KiB acks=all at %.0f%% of disk (%s >= 50%%); consumption %.1fx produce (%s >= 4x); peak RSS %.0f MiB (%s < 256 MiB)\n",
		100*kib.bytesPerSec/disk, verdict(kib.bytesPerSec >= 0.5*disk),
		cons.bytesPerSec/kib.bytesPerSec, verdict(cons.bytesPerSec >= 4*kib.bytesPerSec),
		float64(rss)/(1<<20), verdict(rss < 256<<20))
	return nil
}

// brokerProcess is the broker running as a child process, so its memory is
// measured on its own.
type brokerProcess struct {
	cmd  *exec.Cmd
	addr string
}

func startBroker(dir string) (*brokerProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-broker-child", dir, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("broker child: %w", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		cmd.Process.Kill()
		return nil, fmt.Errorf("broker child said %q", line)
	}
	return &brokerProcess{cmd: cmd, addr: addr}, nil
}

func (b *brokerProcess) stop() {
	b.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
	}
}

// peakRSS reads the child's high-water resident set size (VmHWM).
func (b *brokerProcess) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", b.cmd.Process.Pid)
}
