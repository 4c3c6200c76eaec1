package main

import (
	"context"
	"errors"
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

type options struct {
	dir                      string
	events                   int64
	partitions               int32
	threads, cache, runs     int
	only                     string
	check                    bool
	cpuProfile, allocProfile string
	trace                    string
	params                   nexmark.Params
}

func main() {
	var o options
	var partitions int
	flag.StringVar(&o.dir, "dir", "./.cache/bench/nexmark", "scratch directory (emptied first)")
	flag.Int64Var(&o.events, "events", 1_000_000, "events to generate")
	flag.IntVar(&partitions, "partitions", 4, "partitions of each topic")
	flag.IntVar(&o.threads, "threads", runtime.GOMAXPROCS(0), "stream threads of each query's app")
	flag.IntVar(&o.cache, "cache", 10<<20, "statestore.cache.max.bytes of each query's app (Kafka Streams' default: 10 MiB)")
	flag.IntVar(&o.runs, "runs", 5, "runs of each query; the median is reported, with the range")
	flag.StringVar(&o.only, "queries", "", "comma-separated queries to run (default: all)")
	flag.BoolVar(&o.check, "check", true, "check each query's output against its reference")
	flag.DurationVar(&o.params.Grace, "grace", 10*time.Second, "grace period of the windowed queries")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each query's runs to this path with the query's name inserted (cpu.pprof: cpu.q0.pprof, ...)")
	flag.StringVar(&o.allocProfile, "allocprofile", "", "write the allocations of each query's runs to this path with the query's name inserted")
	flag.StringVar(&o.trace, "trace", "", "write an execution trace of each query's runs to this path with the query's name inserted (go tool trace)")
	flag.Parse()
	o.partitions = int32(partitions)
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "nexmark bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	if err := os.RemoveAll(o.dir); err != nil {
		return err
	}
	br, err := broker.Open(broker.Config{Dir: filepath.Join(o.dir, "broker")})
	if err != nil {
		return err
	}
	defer br.Close()
	client := br.Embedded()

	g, err := nexmark.New(nexmark.Events(o.events))
	if err != nil {
		return err
	}
	w, err := nexmark.NewWriter(ctx, client, o.partitions)
	if err != nil {
		return err
	}
	start := time.Now()
	for ev := range g.All() {
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
		in.Total(), in.Persons, in.Auctions, in.Bids, o.partitions, took.Round(time.Millisecond), float64(in.Total())/took.Seconds())
	fmt.Printf("each query runs alone in process with %d stream threads, GOMAXPROCS %d, %d MiB of store cache, commits every second;\n", o.threads, cores, o.cache>>20)
	fmt.Printf("windows have %v of grace, and tasks writing a repartition topic may drift %v apart in event time (MaxTaskDrift);\n", o.params.Grace, o.params.Grace/2)
	fmt.Printf("records/s is the median of %d runs (min-max in brackets), per core = records/s / GOMAXPROCS, over the records the query reads;\n", o.runs)
	fmt.Printf("stream/core counts instead every event of the stream the run got through, of all three kinds, as a source reading\n")
	fmt.Printf("one topic of all events would (Flink's Nexmark does): a query reading persons and auctions skips the bids' topic;\n")
	fmt.Printf("used is the cores the process used over the run (its CPU time, every thread, over the run's time), median of the runs;\n")
	fmt.Printf("per CPU-s is records per second of that CPU time, median with range: Nexmark's Throughput/Cores, which divides\n")
	fmt.Printf("by the cores used, not those available (Flink's published per-core figures are this)\n\n")
	fmt.Printf("%-4s %-66s %9s %10s %19s %10s %11s %5s %10s %19s  %s\n", "", "", "records", "records/s", "(min-max)", "per core", "stream/core", "used", "per CPU-s", "(min-max)", "output")

	for _, q := range nexmark.Queries() {
		if o.only != "" && !slices.Contains(strings.Split(o.only, ","), q.Name) {
			continue
		}
		if err := runQuery(ctx, o, client, q, in, cores); err != nil {
			return err
		}
	}
	return nil
}

// runQuery runs q o.runs times, each as a new app from the start of the
// topics, then checks each run's output and prints the median rate. The
// events the checks need are generated again afterwards rather than kept:
// a million events held during the runs would make every garbage
// collection in them mark a few hundred MB that are not the app's.
func runQuery(ctx context.Context, o options, client broker.Client, q nexmark.Query, in nexmark.Counts, cores int) error {
	stopProfile, err := queryProfile(o.cpuProfile, q.Name)
	if err != nil {
		return err
	}
	stopTrace, err := queryTrace(o.trace, q.Name)
	if err != nil {
		return errors.Join(err, stopProfile())
	}
	var rates, perCPU, used []float64
	var outputs []string
	var records, late int64
	for i := range max(o.runs, 1) {
		runtime.GC() // start each run with the last one's garbage collected
		id := fmt.Sprintf("nexmark-%s-%d", q.Name, i)
		res, err := nexmark.Run(ctx, q, nexmark.RunConfig{
			App: stream.Config{Client: client, StateDir: filepath.Join(o.dir, "state", id), CommitInterval: time.Second,
				Threads: o.threads, CacheMaxBytes: o.cache, MaxTaskDrift: o.params.Grace / 2},
			AppID:  id,
			Output: id + "-out",
			Input:  in,
			Params: o.params,
		})
		if err != nil {
			return errors.Join(err, stopTrace(), stopProfile())
		}
		rates, records = append(rates, res.PerSecond()), res.Records
		perCPU, used = append(perCPU, res.PerCPUSecond()), append(used, res.CPU.Seconds()/res.Elapsed.Seconds())
		outputs = append(outputs, res.Output)
		if late = res.LateRecords; late > 0 {
			break
		}
	}
	if err := errors.Join(stopTrace(), stopProfile()); err != nil {
		return err
	}
	verdict := "not checked"
	switch {
	case late > 0:
		verdict = fmt.Sprintf("%d late records: not comparable", late)
	case o.check:
		var err error
		if verdict, err = check(ctx, o, client, q, outputs); err != nil {
			return err
		}
	}
	if err := writeAllocProfile(o.allocProfile, q.Name); err != nil {
		return err
	}
	slices.Sort(rates)
	median := rates[len(rates)/2]
	perCore := median / float64(cores)
	slices.Sort(perCPU)
	slices.Sort(used)
	fmt.Printf("%-4s %-66s %9d %10.0f %19s %10.0f %11.0f %5.2f %10.0f %19s  %s\n", q.Name, q.Description, records, median,
		fmt.Sprintf("(%.0f-%.0f)", rates[0], rates[len(rates)-1]), perCore, perCore*float64(in.Total())/float64(max(records, 1)),
		used[len(used)/2], perCPU[len(perCPU)/2], fmt.Sprintf("(%.0f-%.0f)", perCPU[0], perCPU[len(perCPU)-1]), verdict)
	return nil
}

// check compares each run's output with the query's reference over the
// events, generated again as they were written.
func check(ctx context.Context, o options, client broker.Client, q nexmark.Query, outputs []string) (string, error) {
	g, err := nexmark.New(nexmark.Events(o.events))
	if err != nil {
		return "", err
	}
	var events []nexmark.Event
	for ev := range g.All() {
		events = append(events, ev)
	}
	n := 0
	for i, topic := range outputs {
		out, err := nexmark.ReadOutput(ctx, client, topic)
		if err != nil {
			return "", err
		}
		if err := q.Check(out, events, o.params); err != nil {
			return "", fmt.Errorf("%s, run %d: wrong output: %w", q.Name, i+1, err)
		}
		n = len(out)
	}
	return fmt.Sprintf("%d records, as the reference", n), nil
}
