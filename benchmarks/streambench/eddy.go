package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// counter counts records at a source and notes when the first arrived.
type counter struct{ seen, first atomic.Int64 }

func (c *counter) add() {
	if c.seen.Add(1) == 1 {
		c.first.Store(time.Now().UnixNano())
	}
}

// runApp runs a topology until it has seen records input records (counted
// by a Peek at its source) and returns records/s from the first record to
// the last, as the goka peer is measured.
func runApp(ctx context.Context, client broker.Client, dir string, b *stream.Builder, seen *counter, records int) (float64, error) {
	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "state"), CommitInterval: time.Second})
	if err != nil {
		return 0, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- app.Run(rctx) }()
	<-app.Ready()
	for seen.seen.Load() < int64(records) {
		select {
		case err := <-done:
			return 0, fmt.Errorf("app stopped early: %w", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
	took := time.Since(time.Unix(0, seen.first.Load()))
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(records) / took.Seconds(), nil
}

func runStateless(ctx context.Context, client broker.Client, dir string, records int) (float64, error) {
	b := stream.NewBuilder("bench-stateless")
	var seen counter
	in := stream.From(b, "input", serde.String, serde.String).Peek(func(string, string) { seen.add() })
	mobile := in.Filter(func(_ string, v string) bool { return strings.HasPrefix(v, "mobile:") })
	stream.MapValues(mobile, func(_ string, v string) string { return strings.ToUpper(v[7:]) }).To("stateless-out", serde.String, serde.String)
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "stateless-out", Partitions: 4}); err != nil {
		return 0, err
	}
	return runApp(ctx, client, filepath.Join(dir, "stateless"), b, &seen, records)
}

// runCount counts records per key from the topic input into a changelogged
// store and the topic <name>-count-out, as the app name.
func runCount(ctx context.Context, client broker.Client, dir string, records int, name, input string) (float64, error) {
	b := stream.NewBuilder(name)
	var seen counter
	in := stream.From(b, input, serde.String, serde.String).Peek(func(string, string) { seen.add() })
	counts := table.Count(in.GroupByKey(), table.Named("counts"))
	counts.ToStream().To(name+"-count-out", serde.String, serde.Int64)
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: name + "-count-out", Partitions: 4}); err != nil {
		return 0, err
	}
	return runApp(ctx, client, filepath.Join(dir, "count"), b, &seen, records)
}
