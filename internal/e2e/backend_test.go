package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/broker/wire"
)

// envBackend chooses the broker the tests run on: backendEmbedded (the
// default), backendWire or backendKafka.
const envBackend = "EDDY_E2E_BACKEND"

const (
	// backendEmbedded: an embedded broker per test, reached in process.
	backendEmbedded = "embedded"
	// backendWire: an embedded broker per test serving the Kafka protocol
	// on 127.0.0.1, reached through the sarama client.
	backendWire = "wire"
	// backendKafka: Apache Kafka at EDDY_KAFKA_BROKERS, or one started by
	// kafkaScript for this test binary, reached through the sarama client.
	backendKafka = "kafka"
)

// kafkaScript starts and stops the Apache Kafka of the kafka backend.
const kafkaScript = "../../scripts/kafka.sh"

// realKafka is the Apache Kafka of this test binary, found or started on
// first use; TestMain stops it if this binary started it.
var realKafka struct {
	once    sync.Once
	addr    string
	err     error
	started bool
}

func TestMain(m *testing.M) {
	code := m.Run()
	if realKafka.started {
		cmd := exec.Command(kafkaScript, "down")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "stop Kafka: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// backend returns the backend EDDY_E2E_BACKEND names, failing the test on
// an unknown one rather than silently running another.
func backend(t *testing.T) string {
	t.Helper()
	switch v := os.Getenv(envBackend); v {
	case "":
		return backendEmbedded
	case backendEmbedded, backendWire, backendKafka:
		return v
	default:
		t.Fatalf("%s=%q: want %s, %s or %s", envBackend, v, backendEmbedded, backendWire, backendKafka)
		return ""
	}
}

// quietLogger keeps the sarama client's and the listener's routine
// messages out of the test output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// openClient returns the client the test's app and helpers use, on the
// chosen backend; everything it opens is closed when the test ends.
func openClient(t *testing.T) broker.Client {
	t.Helper()
	switch backend(t) {
	case backendWire:
		return saramaClient(t, wireBroker(t))
	case backendKafka:
		return saramaClient(t, kafkaAddr(t))
	default:
		br := openBroker(t, broker.Config{Dir: t.TempDir()})
		return br.Embedded()
	}
}

func openBroker(t *testing.T, cfg broker.Config) *broker.Broker {
	t.Helper()
	br, err := broker.Open(cfg)
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	t.Cleanup(func() {
		if err := br.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return br
}

// saramaClient connects the sarama-backed client to addr.
func saramaClient(t *testing.T, addr string) broker.Client {
	t.Helper()
	c, err := kafka.New(kafka.Config{Brokers: strings.Split(addr, ","), ClientID: "eddy-e2e", Logger: quietLogger()})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close client of %s: %v", addr, err)
		}
	})
	return c
}

// wireBroker starts an embedded broker serving the Kafka protocol on
// 127.0.0.1 and returns its address; it stops when the test ends, after
// the clients of it (cleanups run last in, first out).
func wireBroker(t *testing.T) string {
	t.Helper()
	logger := quietLogger()
	// No initial rebalance delay: one app instance joins its group alone.
	br := openBroker(t, broker.Config{Dir: t.TempDir(), Logger: logger, Groups: group.Config{InitialRebalanceDelay: -1}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	host, port, err := wire.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatalf("listener address: %v", err)
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: br, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		t.Fatalf("Kafka protocol server: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, wire.ErrServerClosed) {
			t.Errorf("shut the listener down: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, wire.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// kafkaAddr returns the bootstrap address of Apache Kafka: the one
// EDDY_KAFKA_BROKERS names, one kafkaScript reports running, or one it
// starts; without one the test fails, saying how to get one.
func kafkaAddr(t *testing.T) string {
	t.Helper()
	realKafka.once.Do(func() {
		if v := os.Getenv(kafka.EnvBrokers); v != "" {
			realKafka.addr = v
			return
		}
		if out, err := exec.Command(kafkaScript, "status").Output(); err == nil {
			realKafka.addr = strings.Fields(string(out))[0] // started by someone else: left running
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(kafkaScript, "up")
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			realKafka.err = fmt.Errorf("%s up: %w\n%s", kafkaScript, err, stderr.String())
			return
		}
		lines := strings.Fields(string(out))
		if len(lines) == 0 {
			realKafka.err = fmt.Errorf("%s up printed no address\n%s", kafkaScript, stderr.String())
			return
		}
		realKafka.addr, realKafka.started = lines[len(lines)-1], true
		fmt.Fprintf(os.Stderr, "started Apache Kafka on %s in %v\n", realKafka.addr, time.Since(start).Round(100*time.Millisecond))
	})
	if realKafka.err != nil {
		t.Fatalf("no Apache Kafka for %s=%s: %v\nstart one with `make kafka-up` (needs java and mvn: `make deps`), or set %s to a cluster's bootstrap servers",
			envBackend, backendKafka, realKafka.err, kafka.EnvBrokers)
	}
	return realKafka.addr
}

// namePrefix derives the prefix of a test's topics and application ids
// from its name and a random id: one Kafka serves every test of every run,
// and with -count a test runs several times under one name. Only
// characters legal in a topic name are kept, and no '.' or '_', which
// Kafka's metric names confuse.
func namePrefix(t *testing.T) string {
	t.Helper()
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatalf("random topic prefix: %v", err)
	}
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String() + "-" + hex.EncodeToString(id[:]) + "-"
}
