package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/benchmarks/nexmark"
	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/stream"
)

func main() {
	dir := flag.String("dir", "./.cache/bench/nexmark", "scratch directory (emptied first)")
	events := flag.Int64("events", 1_000_000, "events to generate")
	partitions := flag.Int("partitions", 4, "partitions of each topic")
	threads := flag.Int("threads", runtime.GOMAXPROCS(0), "stream threads of each query's app")
	only := flag.String("queries", "", "comma-separated queries to run (default: all)")
	check := flag.Bool("check", true, "check each query's output against its reference")
	grace := flag.Duration("grace", 10*time.Second, "grace period of the windowed queries")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of each query's run to this path with the query's name inserted (cpu.pprof: cpu.q0.pprof, ...)")
	flag.Parse()
	if err := run(*dir, *events, int32(*partitions), *threads, *only, *check, *cpuProfile, nexmark.Params{Grace: *grace}); err != nil {
		fmt.Fprintln(os.Stderr, "nexmark bench:", err)
		os.Exit(1)
	}
}

func run(dir string, events int64, partitions int32, threads int, only string, check bool, cpuProfile string, params nexmark.Params) error {
	ctx := context.Background()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		return err
	}
	defer br.Close()
	client := br.Embedded()

	g, err := nexmark.New(nexmark.Events(events))
	if err != nil {
		return err
	}
	w, err := nexmark.NewWriter(ctx, client, partitions)
	if err != nil {
		return err
	}
	var kept []nexmark.Event
	start := time.Now()
	for ev := range g.All() {
		if check {
			kept = append(kept, ev)
		}
		if err := w.Write(ev); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	took := time.Since(start)
	in := w.Counts()
	cores := runtime.GOMAXPROCS(0)
	fmt.Printf("nexmark: %d events (%d persons, %d auctions, %d bids), %d partitions per topic, generated and written durably in %v (%.0f events/s)\n",
		in.Total(), in.Persons, in.Auctions, in.Bids, partitions, took.Round(time.Millisecond), float64(in.Total())/took.Seconds())
	fmt.Printf("each query runs alone in process with %d stream threads, GOMAXPROCS %d; windows have %v of grace\n\n", threads, cores, params.Grace)
	fmt.Printf("%-4s %-66s %10s %12s %12s  %s\n", "", "", "records", "records/s", "per core", "output")

	for _, q := range nexmark.Queries() {
		if only != "" && !slices.Contains(strings.Split(only, ","), q.Name) {
			continue
		}
		stopProfile, err := queryProfile(cpuProfile, q.Name)
		if err != nil {
			return err
		}
		res, err := nexmark.Run(ctx, q, nexmark.RunConfig{
			App:    stream.Config{Client: client, StateDir: filepath.Join(dir, "state", q.Name), CommitInterval: time.Second, Threads: threads},
			Input:  in,
			Params: params,
		})
		if perr := stopProfile(); err == nil {
			err = perr
		}
		if err != nil {
			return err
		}
		verdict := "not checked"
		switch {
		case res.LateRecords > 0:
			verdict = fmt.Sprintf("%d late records: not comparable", res.LateRecords)
		case check:
			out, err := nexmark.ReadOutput(ctx, client, res.Output)
			if err != nil {
				return err
			}
			if err := q.Check(out, kept, params); err != nil {
				return fmt.Errorf("%s: wrong output: %w", q.Name, err)
			}
			verdict = fmt.Sprintf("%d records, as the reference", len(out))
		}
		rate := res.PerSecond()
		fmt.Printf("%-4s %-66s %10d %12.0f %12.0f  %s\n", q.Name, q.Description, res.Records, rate, rate/float64(cores), verdict)
	}
	return nil
}
