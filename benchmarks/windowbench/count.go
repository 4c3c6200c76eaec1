package main

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// kind is one windowing to measure.
type kind struct {
	name          string
	size, advance time.Duration
}

func (k kind) windows() window.TimeWindows {
	return window.Hopping(k.size, k.advance).Grace(5 * time.Second)
}

// result is one run's throughput and how much of its output was checked.
type result struct {
	perSecond                   float64
	checkedKeys, checkedWindows int
}

// sampledKeys is how many keys' windows are checked after a run: enough to
// catch a wrong window assignment, few enough to fetch in well under a
// second.
const sampledKeys = 16

// countWindows runs window.Count with k's windows over topic as the app
// named app, until it has read every record, and returns records/s from its
// first record to its last. The windows of a sample of keys are then
// compared with counts made directly from the input; a mismatch is an
// error.
func countWindows(ctx context.Context, client broker.Client, dir, app, topic string, k kind, in input) (result, error) {
	b := stream.NewBuilder(app)
	var seen, first atomic.Int64
	events := stream.From(b, topic, serde.String, serde.String).Peek(func(string, string) {
		if seen.Add(1) == 1 {
			first.Store(time.Now().UnixNano())
		}
	})
	// Retention spans the whole input, so every window can be checked.
	counts := window.Count(events.GroupByKey(), k.windows(), window.Named("counts"), window.Retention(48*time.Hour))
	counts.ToStream().To(app+"-out", nil, nil, window.ByKey[string, int64](serde.String))
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: app + "-out", Partitions: in.parts}); err != nil {
		return result{}, err
	}
	a, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "state"), CommitInterval: time.Second})
	if err != nil {
		return result{}, err
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	stopped := func(err error) error { return fmt.Errorf("app stopped early after %d records: %w", seen.Load(), err) }
	select {
	case <-a.Ready():
	case err := <-done:
		return result{}, stopped(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for seen.Load() < int64(in.records) {
		select {
		case err := <-done:
			return result{}, stopped(err)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("read only %d of %d records in 5 minutes", seen.Load(), in.records)
		}
	}
	res := result{perSecond: float64(in.records) / time.Since(time.Unix(0, first.Load())).Seconds()}
	res.checkedKeys, res.checkedWindows, err = check(a, counts, k, in)
	cancel()
	if rerr := <-done; err == nil {
		err = rerr
	}
	return res, err
}

// check compares the windows of sampledKeys keys spread over the key space
// with counts made directly from the input. The last records read may still
// be in the count's pipeline, so it retries for a few seconds.
func check(a *stream.App, counts table.Table[window.Key[string], int64], k kind, in input) (keys, windows int, err error) {
	deadline := time.Now().Add(10 * time.Second)
	for s := range min(sampledKeys, in.keys) {
		key := s * in.keys / min(sampledKeys, in.keys)
		want := in.expected(key, k.size.Milliseconds(), k.advance.Milliseconds())
		for {
			kvs, err := window.Fetch(a, counts, in.key(key), 0, 1<<62)
			if err != nil {
				return keys, windows, fmt.Errorf("fetch %s: %w", in.key(key), err)
			}
			got := make(map[int64]int64, len(kvs))
			for _, kv := range kvs {
				got[kv.Key.Start] = kv.Value
			}
			if maps.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				return keys, windows, fmt.Errorf("key %s: %d windows counted, %d expected (counted %v, expected %v)", in.key(key), len(got), len(want), got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		keys, windows = keys+1, windows+len(want)
	}
	return keys, windows, nil
}
