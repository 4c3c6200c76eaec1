package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/broker/wire"
)

// quietLogger drops the broker server's and the sarama client's logs, which
// would otherwise interleave with the figures.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serveWire serves br over the Kafka protocol on a loopback port and returns
// its address and a function that stops serving.
func serveWire(br *broker.Broker) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen for the wire server: %w", err)
	}
	host, port, err := wire.SplitHostPort(ln.Addr().String())
	if err != nil {
		ln.Close()
		return "", nil, err
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: br, AdvertisedHost: host, AdvertisedPort: port, Logger: quietLogger()})
	if err != nil {
		ln.Close()
		return "", nil, fmt.Errorf("wire server: %w", err)
	}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

// apacheKafka returns the bootstrap servers of an Apache Kafka: those in
// EDDY_KAFKA_BROKERS, else one that script reports running, else one the
// script starts. stop shuts Kafka down only if this call started it.
func apacheKafka(script string) (addr string, stop func() error, err error) {
	keep := func() error { return nil }
	if v := os.Getenv(kafka.EnvBrokers); v != "" {
		return v, keep, nil
	}
	if out, err := exec.Command(script, "status").Output(); err == nil {
		// Started by someone else: used and left running, unless it no
		// longer answers (its owner is stopping it), then a fresh one.
		if f := strings.Fields(string(out)); len(f) > 0 && answers(f[0]) {
			return f[0], keep, nil
		}
	}
	start := time.Now()
	cmd := exec.Command(script, "up")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s up: %w\n%s(set %s to use a running cluster)", script, err, stderr.String(), kafka.EnvBrokers)
	}
	f := strings.Fields(string(out))
	if len(f) == 0 {
		return "", nil, fmt.Errorf("%s up printed no address", script)
	}
	fmt.Printf("(started Apache Kafka on %s in %v; stopped after the run)\n", f[len(f)-1], time.Since(start).Round(100*time.Millisecond))
	return f[len(f)-1], func() error {
		cmd := exec.Command(script, "down")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s down: %w", script, err)
		}
		return nil
	}, nil
}

// countOverSarama writes records input records to a fresh topic of the
// cluster at addr through the sarama client, then runs the stateful count
// on them through the same client and returns its records/s. Names carry a
// run id, so a long-lived cluster never hands the app a previous run's
// topics or group offsets.
func countOverSarama(ctx context.Context, addr, dir, label string, records, keys int, parts int32) (float64, error) {
	c, err := kafka.New(kafka.Config{Brokers: strings.Split(addr, ","), ClientID: "eddy-streambench", Logger: quietLogger()})
	if err != nil {
		return 0, fmt.Errorf("%s: connect to %s: %w", label, addr, err)
	}
	defer c.Close()
	run := fmt.Sprintf("streambench-%s-%d", label, time.Now().UnixNano())
	t0 := time.Now()
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: run + "-input", Partitions: parts}); err != nil {
		return 0, fmt.Errorf("%s: %w", label, err)
	}
	if err := fill(ctx, c, run+"-input", records, keys, parts); err != nil {
		return 0, fmt.Errorf("%s: write the input: %w", label, err)
	}
	fmt.Printf("  %s: %d records written through sarama in %v\n", label, records, time.Since(t0).Round(time.Millisecond))
	rate, err := runCount(ctx, c, filepath.Join(dir, label), records, run, run+"-input")
	if err != nil {
		return 0, fmt.Errorf("%s: %w", label, err)
	}
	return rate, nil
}

// saramaOptions configures the counts through the sarama client.
type saramaOptions struct {
	records             int
	skipWire, skipKafka bool
	kafkaScript         string
}

// runSaramaCounts runs the stateful count through the sarama client on the
// embedded broker over loopback and on Apache Kafka, and prints each
// figure with its ratio to inProcess, the in-process count's records/s.
func runSaramaCounts(ctx context.Context, br *broker.Broker, dir string, inProcess float64, keys int, parts int32, o saramaOptions) (err error) {
	if o.skipWire && o.skipKafka {
		return nil
	}
	fmt.Printf("\nstateful count through the sarama client, %d records each:\n", o.records)
	report := func(label string, rate float64) {
		fmt.Printf("stateful count (%s):%*s %10.0f records/s (%.2fx the in-process count)\n", label, 40-len(label), "", rate, rate/inProcess)
	}
	if !o.skipWire {
		addr, stop, err := serveWire(br)
		if err != nil {
			return err
		}
		rate, err := countOverSarama(ctx, addr, dir, "wire", o.records, keys, parts)
		stop()
		if err != nil {
			return err
		}
		report("embedded broker, sarama over loopback", rate)
	}
	if !o.skipKafka {
		addr, stop, err := apacheKafka(o.kafkaScript)
		if err != nil {
			return err
		}
		defer func() {
			if serr := stop(); err == nil {
				err = serr
			}
		}()
		rate, err := countOverSarama(ctx, addr, dir, "kafka", o.records, keys, parts)
		if err != nil {
			return err
		}
		report("Apache Kafka, sarama over loopback", rate)
	}
	return nil
}

// answers reports whether something accepts TCP connections at addr.
func answers(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
