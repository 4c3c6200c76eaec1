package kafka_test

import (
	"bytes"
	"context"
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

// kafkaScript starts and stops the Apache Kafka the tests run against.
const kafkaScript = "../../scripts/kafka.sh"

// realKafka is the Apache Kafka of this test binary: EDDY_KAFKA_BROKERS if
// set, else one started by kafkaScript on first use (and stopped by
// TestMain if this binary started it).
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

// kafkaAddr returns the bootstrap address of a real Apache Kafka, starting
// one if needed; without one the test fails, saying how to get one.
func kafkaAddr(t testing.TB) string {
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
			realKafka.err = fmt.Errorf("%s up: %v\n%s", kafkaScript, err, stderr.String())
			return
		}
		lines := strings.Fields(string(out))
		realKafka.addr, realKafka.started = lines[len(lines)-1], true
		fmt.Fprintf(os.Stderr, "started Apache Kafka on %s in %v\n", realKafka.addr, time.Since(start).Round(100*time.Millisecond))
	})
	if realKafka.err != nil {
		t.Fatalf("no Apache Kafka for this test: %v\nstart one with `make kafka-up` (needs java and mvn: `make deps`), or set %s to a cluster's bootstrap servers", realKafka.err, kafka.EnvBrokers)
	}
	return realKafka.addr
}

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := wire.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		t.Fatal(err)
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
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return b, ln.Addr().String()
}
