package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/internal/testkafka"
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
	// scripts/kafka.sh for this test binary (testkafka.Addr), reached through
	// the sarama client.
	backendKafka = "kafka"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testkafka.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
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
	return testkafka.Serve(t, br, logger)
}

// kafkaAddr returns the bootstrap address of the Apache Kafka the kafka
// backend runs on (see testkafka.Addr).
func kafkaAddr(t *testing.T) string { return testkafka.Addr(t) }

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
