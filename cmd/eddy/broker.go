package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/broker/wire"
)

func brokerCommand() *cobra.Command {
	var (
		dir, listen, advertise string
		partitions             int32
		noAutoCreate           bool
		syncPolicy             string
		syncInterval           time.Duration
		syncDelay              time.Duration
		groupDelay             time.Duration
		verbose                bool
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded broker as a Kafka-compatible server",
		Long: `broker serves eddy's embedded broker over the Kafka protocol, so any Kafka
client (sarama, franz-go, librdkafka/kcat, kafka-python, kafkajs, goka, Kafka
Streams) can produce to it and consume from it in consumer groups.

Data, topic metadata and committed offsets live under --data and survive
restarts. By default a produce with acks=all is acknowledged only after
fsync. SIGINT or SIGTERM shuts it down cleanly.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			policy, err := parseSyncPolicy(syncPolicy)
			if err != nil {
				return err
			}
			cfg := broker.Config{
				Dir: dir, Logger: logger, DefaultPartitions: partitions,
				DisableAutoCreateTopics: noAutoCreate, Sync: policy, SyncInterval: syncInterval,
				SyncDelay: syncDelay,
			}
			cfg.Groups.InitialRebalanceDelay = groupDelay
			if groupDelay == 0 {
				// The coordinator reads zero as "Kafka's default"; on the
				// command line 0s means no delay.
				cfg.Groups.InitialRebalanceDelay = -1
			}
			return runBroker(cmd.Context(), cfg, listen, advertise, logger)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "data", "./data/broker", "data directory (log.dirs)")
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "address to listen on")
	f.StringVar(&advertise, "advertise", "", "host:port clients are told to connect to (default: the listen address)")
	f.Int32Var(&partitions, "partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.BoolVar(&noAutoCreate, "no-auto-create", false, "disable auto.create.topics.enable")
	f.StringVar(&syncPolicy, "sync", "on-ack", "durability: on-ack (fsync before acks=all answers), interval, or none")
	f.DurationVar(&syncInterval, "sync-interval", time.Second, "fsync period for --sync=interval")
	f.DurationVar(&syncDelay, "sync-delay", 50*time.Millisecond, "for --sync=on-ack: how long acks=1 data may wait for an fsync, and so be unseen, while no fetch waits for it (negative: none)")
	f.DurationVar(&groupDelay, "group-initial-rebalance-delay", 3*time.Second, "group.initial.rebalance.delay.ms")
	f.BoolVar(&verbose, "verbose", false, "debug logging")
	return cmd
}

func parseSyncPolicy(s string) (log.SyncPolicy, error) {
	switch s {
	case "on-ack":
		return log.SyncOnAck, nil
	case "interval":
		return log.SyncInterval, nil
	case "none":
		return log.NoSync, nil
	}
	return 0, fmt.Errorf("--sync=%q: want on-ack, interval or none", s)
}

func runBroker(ctx context.Context, cfg broker.Config, listen, advertise string, logger *slog.Logger) error {
	b, err := broker.Open(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		b.Close()
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	if advertise == "" {
		advertise = ln.Addr().String()
	}
	host, port, err := wire.SplitHostPort(advertise)
	if err != nil {
		ln.Close()
		b.Close()
		return err
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		ln.Close()
		b.Close()
		return err
	}
	fmt.Printf("eddy broker listening on %s (advertised as %s), data in %s, cluster id %s\n", ln.Addr(), advertise, cfg.Dir, b.ClusterID())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-served:
		logger.Error("listener stopped", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, wire.ErrServerClosed) {
		logger.Error("shutdown", "err", serr)
	}
	if cerr := b.Close(); cerr != nil {
		return fmt.Errorf("close broker: %w", cerr)
	}
	fmt.Println("eddy broker stopped cleanly")
	if err != nil && !errors.Is(err, wire.ErrServerClosed) {
		return err
	}
	return nil
}
