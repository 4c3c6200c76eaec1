package nexmark

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/stream"
)

// RunConfig configures Run.
type RunConfig struct {
	// App configures the query's app; Client is required, and StateDir
	// unless InMemoryStores.
	App stream.Config
	// AppID is the app's id (default "nexmark-<query>").
	AppID string
	// Output is the topic the query writes (default "<query>-out"); Run
	// creates it with as many partitions as the bid topic has.
	Output string
	// Input is what the Nexmark topics hold: Run returns once the query
	// has read every event of the kinds it uses.
	Input Counts
}

// Result is a finished run.
type Result struct {
	// Records is how many input records the query read.
	Records int64
	// Elapsed is the time from the first record read to the last.
	Elapsed time.Duration
	// Output is the topic the query wrote.
	Output string
}

// PerSecond is Records over Elapsed.
func (r Result) PerSecond() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// Run runs query q as an app over the events already in the Nexmark topics
// until it has read all of the kinds it uses, then stops it cleanly (its
// final commit flushes every output) and returns.
func Run(ctx context.Context, q Query, rc RunConfig) (Result, error) {
	if rc.AppID == "" {
		rc.AppID = "nexmark-" + q.Name
	}
	if rc.Output == "" {
		rc.Output = q.Name + "-out"
	}
	client := rc.App.Client
	if client == nil {
		return Result{}, fmt.Errorf("nexmark: run %s: no client", q.Name)
	}
	var want int64
	for _, k := range q.Inputs {
		want += map[Kind]int64{KindPerson: rc.Input.Persons, KindAuction: rc.Input.Auctions, KindBid: rc.Input.Bids}[k]
	}
	parts, err := client.Partitions(ctx, BidTopic)
	if err != nil {
		return Result{}, fmt.Errorf("nexmark: run %s: %w", q.Name, err)
	}
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: rc.Output, Partitions: parts}); err != nil {
		return Result{}, fmt.Errorf("nexmark: run %s: create %s: %w", q.Name, rc.Output, err)
	}

	var seen, first atomic.Int64
	b := stream.NewBuilder(rc.AppID)
	src := From(b, OnRecord(func(k Kind) {
		if slices.Contains(q.Inputs, k) && seen.Add(1) == 1 {
			first.Store(time.Now().UnixNano())
		}
	}))
	q.Build(src, rc.Output)
	app, err := stream.NewApp(b, rc.App)
	if err != nil {
		return Result{}, fmt.Errorf("nexmark: run %s: %w", q.Name, err)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(rctx) }()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for seen.Load() < want {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("it stopped")
			}
			return Result{}, fmt.Errorf("nexmark: run %s: read %d of %d records: %w", q.Name, seen.Load(), want, err)
		case <-tick.C:
		}
	}
	res := Result{Records: want, Output: rc.Output}
	if want > 0 {
		res.Elapsed = time.Since(time.Unix(0, first.Load()))
	}
	stop()
	if err := <-done; err != nil {
		return Result{}, fmt.Errorf("nexmark: run %s: %w", q.Name, err)
	}
	return res, nil
}
