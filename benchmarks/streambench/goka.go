package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	gokastorage "github.com/lovoo/goka/storage"

	"github.com/eddy-streams/eddy/broker"
)

// runGoka counts records per key with a goka processor (its group table
// persisted in LevelDB and a changelog topic, as goka does), talking to the
// same broker over the Kafka protocol on loopback. It returns records/s from
// the first record processed to the last.
func runGoka(br *broker.Broker, dir string, records, keys int) (float64, error) {
	bootstrap, stop, err := serveWire(br)
	if err != nil {
		return 0, err
	}
	defer stop()

	cfg := goka.DefaultConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	goka.ReplaceGlobalConfig(cfg)
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication, tm.Stream.Replication = 1, 1

	var seen, first atomic.Int64
	g := goka.DefineGroup("bench-goka",
		goka.Input("input", new(codec.String), func(ctx goka.Context, _ any) {
			var n int64
			if v := ctx.Value(); v != nil {
				n = v.(int64)
			}
			ctx.SetValue(n + 1)
			if seen.Add(1) == 1 {
				first.Store(time.Now().UnixNano())
			}
		}),
		goka.Persist(new(codec.Int64)),
	)
	addr := []string{bootstrap}
	p, err := goka.NewProcessor(addr, g,
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(cfg, tm)),
		goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(cfg)),
		goka.WithStorageBuilder(gokastorage.DefaultBuilder(filepath.Join(dir, "goka"))))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Minute)
	for seen.Load() < int64(records) {
		select {
		case err := <-done:
			return 0, fmt.Errorf("goka processor stopped after %d records: %w", seen.Load(), err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("goka processed only %d of %d records in 5 minutes", seen.Load(), records)
		}
	}
	took := time.Since(time.Unix(0, first.Load()))
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return 0, err
	}
	return float64(records) / took.Seconds(), nil
}
