package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// runRestore fills the changelog of a count store with n distinct keys (as
// a long-running app would have), then times the start of an app with no
// local state (full restore) and a second start with intact local state.
func runRestore(ctx context.Context, client broker.Client, dir string, n int, parts int32) (time.Duration, time.Duration, error) {
	const app = "bench-restore"
	changelog := app + "-counts-changelog"
	if err := client.CreateTopics(ctx,
		broker.TopicSpec{Name: "restore-input", Partitions: parts},
		broker.TopicSpec{Name: changelog, Partitions: parts, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		return 0, 0, err
	}
	builders := make([]*batch.Builder, parts)
	for i := range builders {
		builders[i] = batch.NewBuilder(batch.BuilderOptions{})
	}
	flush := func(p int32) error {
		data, err := builders[p].Build(nil)
		if err != nil {
			return err
		}
		builders[p].Reset()
		_, err = client.Append(ctx, changelog, p, data)
		return err
	}
	now := time.Now().UnixMilli()
	for i := 0; i < n; i++ {
		key, _ := serde.String.Serialize("", fmt.Sprintf("user-%08d", i))
		v, _ := serde.Int64.Serialize("", int64(i%1000))
		p := partition.ForKey(key, parts)
		// Store values carry their timestamp: 8 bytes, then the value.
		stored := append(make([]byte, 8, 16), v...)
		builders[p].Add(batch.Record{Key: key, Value: stored, Timestamp: now})
		if builders[p].Len() == 5000 {
			if err := flush(p); err != nil {
				return 0, 0, err
			}
		}
	}
	for p := int32(0); p < parts; p++ {
		if builders[p].Len() > 0 {
			if err := flush(p); err != nil {
				return 0, 0, err
			}
		}
	}
	start := func() (time.Duration, int64, error) {
		b := stream.NewBuilder(app)
		in := stream.From(b, "restore-input", serde.String, serde.String)
		table.Count(in.GroupByKey(), table.Named("counts"))
		a, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "restore-state")})
		if err != nil {
			return 0, 0, err
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		t0 := time.Now()
		go func() { done <- a.Run(rctx) }()
		select {
		case <-a.Ready():
		case err := <-done:
			cancel()
			return 0, 0, err
		}
		took := time.Since(t0)
		info, err := a.Internal().StoreInfo("counts")
		var restored int64
		for _, r := range info.Restored {
			restored += r
		}
		cancel()
		if rerr := <-done; err == nil {
			err = rerr
		}
		return took, restored, err
	}
	full, restored, err := start()
	if err != nil {
		return 0, 0, err
	}
	if restored != int64(n) {
		return 0, 0, fmt.Errorf("full restore replayed %d records, want %d", restored, n)
	}
	again, restored, err := start()
	if err != nil {
		return 0, 0, err
	}
	if restored != 0 {
		return 0, 0, fmt.Errorf("restart with intact state replayed %d records, want 0", restored)
	}
	return full, again, nil
}
