package kafka_test

import (
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

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testkafka.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// kafkaAddr returns the bootstrap address of a real Apache Kafka, starting
// one if needed; without one the test fails, saying how to get one.
func kafkaAddr(t testing.TB) string { return testkafka.Addr(t) }

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// newClient returns a sarama-backed client of addr; the caller closes it.
func newClient(t testing.TB, addr string) *kafka.Client {
	t.Helper()
	c, err := kafka.New(kafka.Config{Brokers: strings.Split(addr, ","), ClientID: "eddy-test", Logger: quietLogger()})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	return c
}

// wireBroker starts an embedded broker serving the Kafka protocol on
// 127.0.0.1 and returns it and its address; both stop when the test ends.
func wireBroker(t testing.TB) (*broker.Broker, string) {
	t.Helper()
	logger := quietLogger()
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: logger, Groups: group.Config{InitialRebalanceDelay: -1}})
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b, testkafka.Serve(t, b, logger)
}
