package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/eddy-streams/eddy/benchmarks/nexmark"
	"github.com/eddy-streams/eddy/broker"
)

func main() {
	dir := flag.String("dir", "", "the embedded broker's data directory (required unless -json)")
	asJSON := flag.Bool("json", false, "print the events as JSON lines instead of writing them to a broker")
	events := flag.Int64("events", 1_000_000, "how many events")
	seed := flag.Uint64("seed", 0, "random seed: the same seed and flags give the same events")
	rate := flag.Float64("rate", 10_000, "events per second of event time")
	partitions := flag.Int("partitions", 4, "partitions of each topic")
	group := flag.Int64("ooo-group", 1, "shuffle events within groups of this many (1: in order)")
	delayProb := flag.Float64("delay-prob", 0, "fraction of events emitted late")
	delayMax := flag.Duration("delay-max", 3*time.Second, "longest delay of a late event")
	flag.Parse()
	opts := []nexmark.Option{nexmark.Seed(*seed), nexmark.Events(*events), nexmark.EventRate(*rate), nexmark.OutOfOrderGroup(*group)}
	if *delayProb > 0 {
		opts = append(opts, nexmark.DelayedEvents(*delayProb, *delayMax))
	}
	var err error
	switch {
	case *asJSON:
		err = printJSON(opts)
	case *dir == "":
		err = fmt.Errorf("give -dir, or -json")
	default:
		err = write(*dir, int32(*partitions), opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nexmark-gen:", err)
		os.Exit(1)
	}
}

func write(dir string, partitions int32, opts []nexmark.Option) error {
	g, err := nexmark.New(opts...)
	if err != nil {
		return err
	}
	br, err := broker.Open(broker.Config{Dir: dir})
	if err != nil {
		return err
	}
	defer br.Close()
	start := time.Now()
	w, err := nexmark.NewWriter(context.Background(), br.Embedded(), partitions)
	if err != nil {
		return err
	}
	for ev := range g.All() {
		if err := w.Write(ev); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	c := w.Counts()
	took := time.Since(start)
	fmt.Printf("wrote %d events (%d persons, %d auctions, %d bids) to %s in %v (%.0f events/s); lateness up to %d ms\n",
		c.Total(), c.Persons, c.Auctions, c.Bids, dir, took.Round(time.Millisecond), float64(c.Total())/took.Seconds(), g.MaxLateness())
	return br.Close()
}

// printJSON writes one object per line: {"person": {...}} or
// {"auction": {...}} or {"bid": {...}}, Flink's tagged-event shape.
func printJSON(opts []nexmark.Option) error {
	g, err := nexmark.New(opts...)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for ev := range g.All() {
		line := struct {
			Person  *nexmark.Person  `json:"person,omitempty"`
			Auction *nexmark.Auction `json:"auction,omitempty"`
			Bid     *nexmark.Bid     `json:"bid,omitempty"`
		}{ev.Person, ev.Auction, ev.Bid}
		if err := enc.Encode(line); err != nil {
			return err
		}
	}
	return out.Flush()
}
