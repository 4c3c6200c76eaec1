package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// TestConsumedCounters: an app that re-keys its input through a
// repartition topic counts every record it processes under the topic it
// came from: the input's counter reaches exactly what was produced, the
// repartition topic's the same, and together they are every record the
// engine processed.
func TestConsumedCounters(t *testing.T) {
	b := openGroupBroker(t)
	truth := map[string]int64{}
	produce(t, b, 0, 500, truth)
	var want int64
	for _, n := range truth {
		want += n
	}
	sb := stream.NewBuilder("consumed")
	in := stream.From(sb, "in", serde.String, serde.String)
	byDigit := stream.GroupBy(in, func(k, _ string) string { return k[len(k)-1:] }, serde.String, stream.Named("by-digit"))
	table.Count(byDigit, table.Named("digit-counts"))
	app, err := stream.NewApp(sb, stream.Config{Client: b.Embedded(), StateDir: t.TempDir(), CommitInterval: 30 * time.Millisecond, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()

	counters := func() (input, repartition, all int64) {
		for name, n := range app.Internal().Counters() {
			topic, ok := strings.CutSuffix(name, ".records-consumed")
			switch {
			case !ok:
				continue
			case topic == "in":
				input = n
			case strings.Contains(topic, "by-digit"):
				repartition = n
			}
			all += n
		}
		return input, repartition, all
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		input, repartition, all := counters()
		if input == want && repartition == want && all == app.Stats().Records {
			break
		}
		if input > want || repartition > want || time.Now().After(deadline) {
			t.Fatalf("consumed: input %d, repartition %d, want %d each; all counters %d, engine's records %d",
				input, repartition, want, all, app.Stats().Records)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
