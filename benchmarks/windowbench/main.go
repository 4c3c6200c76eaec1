package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
)

func main() {
	var in input
	dir := flag.String("dir", "./.cache/windowbench", "scratch directory (emptied first)")
	flag.IntVar(&in.records, "records", 1_000_000, "input records")
	flag.IntVar(&in.keys, "keys", 10_000, "distinct keys in the input")
	flag.IntVar(&in.perSecond, "events-per-second", 1_000, "records per second of event time")
	parts := flag.Int("partitions", 4, "input partitions")
	flag.Parse()
	in.parts = int32(*parts)
	if err := run(*dir, in); err != nil {
		fmt.Fprintln(os.Stderr, "windowbench:", err)
		os.Exit(1)
	}
}

func run(dir string, in input) error {
	if in.records <= 0 || in.keys <= 0 || in.perSecond <= 0 || in.parts <= 0 {
		return fmt.Errorf("records, keys, events-per-second and partitions must be positive")
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		return err
	}
	defer br.Close()
	client := br.Embedded()
	ctx := context.Background()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "events", Partitions: in.parts}); err != nil {
		return err
	}
	t0 := time.Now()
	if err := in.write(ctx, client, "events"); err != nil {
		return fmt.Errorf("write the input: %w", err)
	}
	span := time.Duration(in.records/in.perSecond) * time.Second
	fmt.Printf("input: %d records over %d keys in %d partitions, %d per second of event time (%v), written in %v\n\n",
		in.records, in.keys, in.parts, in.perSecond, span, time.Since(t0).Round(time.Millisecond))
	if span > 40*time.Hour {
		return fmt.Errorf("the input spans %v of event time, more than the windows' 48 h retention: raise events-per-second", span)
	}
	kinds := []kind{
		{"tumbling 1 min", time.Minute, time.Minute},
		{"hopping 5 min, advance 1 min", 5 * time.Minute, time.Minute},
	}
	for i, k := range kinds {
		res, err := countWindows(ctx, client, filepath.Join(dir, fmt.Sprint(i)), fmt.Sprintf("windowbench-%d", i), "events", k, in)
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		fmt.Printf("windowed count, %-30s %10.0f records/s  (%d windows of %d sampled keys as counted directly)\n",
			k.name+":", res.perSecond, res.checkedWindows, res.checkedKeys)
	}
	return nil
}
