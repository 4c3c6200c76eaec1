package testkafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/broker/wire"
)

// real is this process's Apache Kafka, found or started on first use.
var real struct {
	once    sync.Once
	addr    string
	err     error
	started bool
}

// script returns the path of scripts/kafka.sh, found from the working
// directory up to the module root.
func script() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "scripts", "kafka.sh"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testkafka: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Addr returns the bootstrap address of a real Apache Kafka, starting one
// with scripts/kafka.sh if none is configured or running; without one the
// test fails, saying how to get one.
func Addr(t testing.TB) string {
	t.Helper()
	real.once.Do(func() {
		if v := os.Getenv(kafka.EnvBrokers); v != "" {
			real.addr = v
			return
		}
		path, err := script()
		if err != nil {
			real.err = err
			return
		}
		if out, err := exec.Command(path, "status").Output(); err == nil && len(strings.Fields(string(out))) > 0 {
			real.addr = strings.Fields(string(out))[0] // started by someone else: left running
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(path, "up")
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		if err != nil {
			real.err = fmt.Errorf("%s up: %v\n%s", path, err, stderr.String())
			return
		}
		lines := strings.Fields(string(out))
		if len(lines) == 0 {
			real.err = fmt.Errorf("%s up printed no address", path)
			return
		}
		real.addr, real.started = lines[len(lines)-1], true
		fmt.Fprintf(os.Stderr, "started Apache Kafka on %s in %v\n", real.addr, time.Since(start).Round(100*time.Millisecond))
	})
	if real.err != nil {
		t.Fatalf("no Apache Kafka for this test: %v\nstart one with `make kafka-up` (needs java and mvn: `make deps`), or set %s to a cluster's bootstrap servers", real.err, kafka.EnvBrokers)
	}
	return real.addr
}

// Stop stops the Apache Kafka that Addr started in this process, if any;
// call it from TestMain after m.Run.
func Stop() error {
	if !real.started {
		return nil
	}
	path, err := script()
	if err != nil {
		return err
	}
	cmd := exec.Command(path, "down")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("stop Kafka: %w", err)
	}
	return nil
}

// Serve serves b over the Kafka protocol on a free 127.0.0.1 port and
// returns the address; the listener shuts down when the test ends (before
// the caller's own cleanups registered earlier, such as closing b).
func Serve(t testing.TB, b *broker.Broker, logger *slog.Logger) string {
	t.Helper()
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
	})
	return ln.Addr().String()
}
