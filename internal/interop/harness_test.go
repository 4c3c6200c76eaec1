package interop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/wire"
)

// testBroker is an embedded broker serving the Kafka protocol on 127.0.0.1.
type testBroker struct {
	Addr   string // host:port for clients
	Dir    string
	Broker *broker.Broker
	server *wire.Server
	ln     net.Listener
	served chan error
}

type brokerOption func(*broker.Config)

// startBroker starts a broker on a free port with its data under dir (a new
// temporary directory when dir is empty) and stops it when the test ends.
func startBroker(t testing.TB, dir string, opts ...brokerOption) *testBroker {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tb := startOn(t, dir, ln, opts...)
	t.Cleanup(func() { tb.Stop(t) })
	return tb
}

func startOn(t testing.TB, dir string, ln net.Listener, opts ...brokerOption) *testBroker {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// No initial rebalance delay (a negative value disables it; zero would
	// mean Kafka's 3 s default), so group tests do not wait.
	cfg := broker.Config{Dir: dir, Logger: logger, Groups: group.Config{InitialRebalanceDelay: -1}}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := broker.Open(cfg)
	if err != nil {
		ln.Close()
		t.Fatalf("open broker: %v", err)
	}
	host, port, err := wire.SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	tb := &testBroker{Addr: ln.Addr().String(), Dir: dir, Broker: b, server: srv, ln: ln, served: make(chan error, 1)}
	go func() { tb.served <- srv.Serve(ln) }()
	return tb
}

// Stop shuts the listener and the broker down cleanly; it is idempotent.
func (tb *testBroker) Stop(t testing.TB) {
	if tb.server == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tb.server.Shutdown(ctx); err != nil && !errors.Is(err, wire.ErrServerClosed) {
		t.Errorf("shutdown listener: %v", err)
	}
	if err := <-tb.served; err != nil && !errors.Is(err, wire.ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
	if err := tb.Broker.Close(); err != nil && !errors.Is(err, broker.ErrClosed) {
		t.Errorf("close broker: %v", err)
	}
	tb.server = nil
}

// Restart stops the broker and starts it again on the same address and data.
func (tb *testBroker) Restart(t testing.TB, opts ...brokerOption) {
	t.Helper()
	tb.Stop(t)
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly
		if ln, err = net.Listen("tcp", tb.Addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("relisten on %s: %v", tb.Addr, err)
	}
	*tb = *startOn(t, tb.Dir, ln, opts...)
}

// createTopic creates a topic through the broker's Go API.
func (tb *testBroker) createTopic(t testing.TB, name string, partitions int32, configs map[string]string) {
	t.Helper()
	if err := tb.Broker.CreateTopic(context.Background(), broker.TopicSpec{Name: name, Partitions: partitions, Configs: configs}, false); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

func mustf(t testing.TB, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}
