package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/examples/internal/demo"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

const (
	appID            = "wordcount"
	linesTopic       = "lines"
	wordCountsTopic  = "word-counts"
	countStore       = "word-count-store"
	defaultDataDir   = "./data/wordcount"
	defaultLines     = 20_000
	defaultParts     = 3
	defaultTop       = 15
	defaultDeadline  = 2 * time.Minute
	firstLineTimeUTC = 1_735_689_600_000 // 2025-01-01: generated lines are a millisecond apart
)

// Config is what one run does; zero fields take the defaults above.
type Config struct {
	DataDir    string        // broker data under DataDir/broker, app state under DataDir/state
	Lines      int           // lines to generate
	Seed       uint64        // generator seed
	Partitions int32         // partitions of the lines and word-counts topics
	Top        int           // words to print
	Deadline   time.Duration // how long counting may take
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = defaultDataDir
	}
	if c.Lines <= 0 {
		c.Lines = defaultLines
	}
	if c.Partitions <= 0 {
		c.Partitions = defaultParts
	}
	if c.Top <= 0 {
		c.Top = defaultTop
	}
	if c.Deadline <= 0 {
		c.Deadline = defaultDeadline
	}
}

// topology is the word count: lines, split into words, grouped by word,
// counted.
func topology() (*stream.Builder, table.Table[string, int64]) {
	b := stream.NewBuilder(appID)
	lines := stream.From(b, linesTopic, serde.String, serde.String, stream.Named("lines-source"))
	split := stream.FlatMapValues(lines, func(_ string, line string) []string { return words(line) },
		stream.Serdes(serde.String, serde.String), stream.As[string, string]("split-words"))
	byWord := stream.GroupBy(split, func(_ string, w string) string { return w }, serde.String, stream.Named("by-word"))
	counts := table.Count(byWord, table.Named(countStore))
	counts.ToStream().To(wordCountsTopic, serde.String, serde.Int64)
	return b, counts
}

// drawLines draws n corpus lines with a fixed seed.
func drawLines(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x11e5))
	lines := make([]string, n)
	for i := range lines {
		lines[i] = corpus[rng.IntN(len(corpus))]
	}
	return lines
}

// generate writes n drawn lines into the lines topic, keyed by line
// number (numbering on from firstLine), round-robin over the partitions.
func generate(ctx context.Context, client broker.Client, n int, seed uint64, firstLine int64) error {
	w, err := demo.NewWriter(ctx, client, linesTopic)
	if err != nil {
		return err
	}
	for i, line := range drawLines(seed, n) {
		num := firstLine + int64(i)
		key := fmt.Appendf(nil, "line-%08d", num)
		if err := w.Add(int32(num%int64(w.Partitions())), key, []byte(line), firstLineTimeUTC+num); err != nil {
			return err
		}
	}
	return w.Flush()
}

// countDirectly counts the words of every line in the topic, without eddy.
func countDirectly(ctx context.Context, client broker.Client) (map[string]int64, int64, error) {
	counts := map[string]int64{}
	var lines int64
	err := demo.ForEachRecord(ctx, client, linesTopic, func(_ int32, r batch.Record) error {
		lines++
		for _, w := range words(string(r.Value)) {
			counts[w]++
		}
		return nil
	})
	return counts, lines, err
}

// Result is what a run counted and checked.
type Result struct {
	Lines   int64            // lines in the topic, all runs together
	Counts  map[string]int64 // word counts, all runs together
	Elapsed time.Duration    // from starting the app to every word counted
}

// Run generates lines, counts their words with the app, prints the top
// words and checks every count; it returns an error on any mismatch.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Result, error) {
	cfg.defaults()
	br, err := broker.Open(broker.Config{Dir: filepath.Join(cfg.DataDir, "broker")})
	if err != nil {
		return nil, fmt.Errorf("wordcount: open the embedded broker: %w", err)
	}
	defer br.Close()
	client := br.Embedded()
	if err := client.CreateTopics(ctx,
		broker.TopicSpec{Name: linesTopic, Partitions: cfg.Partitions},
		broker.TopicSpec{Name: wordCountsTopic, Partitions: cfg.Partitions}); err != nil {
		return nil, fmt.Errorf("wordcount: create topics: %w", err)
	}
	_, earlier, err := countDirectly(ctx, client)
	if err != nil {
		return nil, err
	}
	if err := generate(ctx, client, cfg.Lines, cfg.Seed, earlier); err != nil {
		return nil, err
	}
	want, total, err := countDirectly(ctx, client)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "generated %d lines (seed %d) into %q, which now holds %d lines and %d words\n",
		cfg.Lines, cfg.Seed, linesTopic, total, demo.Sum(want))

	b, counts := topology()
	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(cfg.DataDir, "state"), CommitInterval: 200 * time.Millisecond, Threads: 2})
	if err != nil {
		return nil, err
	}
	elapsed, err := demo.RunUntilCounted(ctx, app, counts, want, cfg.Deadline)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "counted the words of %d new lines in %v\n\n", cfg.Lines, elapsed.Round(time.Millisecond))
	if err := demo.PrintTop(out, "word", demo.Top(want, cfg.Top)); err != nil {
		return nil, err
	}
	last, err := demo.LastValues(ctx, client, wordCountsTopic, serde.Int64)
	if err != nil {
		return nil, err
	}
	if err := demo.CompareCounts(fmt.Sprintf("wordcount: topic %s", wordCountsTopic), last, want); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nchecked: %d words, each count queried from the app equals the direct count, and so does its last value in %q\n",
		len(want), wordCountsTopic)
	return &Result{Lines: total, Counts: want, Elapsed: elapsed}, nil
}
