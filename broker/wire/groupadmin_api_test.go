package wire

// Helpers of the group and admin API tests; their names start with "ga" so
// they never clash with other tests of the package.

import (
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
)

// gaBroker is an embedded broker on a real data directory, served over
// loopback TCP by NewBrokerServer, for the group and admin API tests.
type gaBroker struct {
	b    *broker.Broker
	addr string
	logs *logBuffer
}

func startGABroker(t *testing.T) *gaBroker {
	t.Helper()
	b, err := broker.Open(broker.Config{
		Dir:    t.TempDir(),
		Groups: group.Config{InitialRebalanceDelay: -1},
	})
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Close()
		t.Fatalf("listen: %v", err)
	}
	host, port, err := SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	srv, err := NewBrokerServer(BrokerConfig{
		Broker: b, AdvertisedHost: host, AdvertisedPort: port,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("NewBrokerServer: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return &gaBroker{b: b, addr: ln.Addr().String(), logs: logs}
}

// createTopic creates a topic through the broker's Go API.
func (ab *gaBroker) createTopic(t *testing.T, name string, partitions int32, configs map[string]string) {
	t.Helper()
	if err := ab.b.CreateTopic(t.Context(), broker.TopicSpec{Name: name, Partitions: partitions, ReplicationFactor: -1, Configs: configs}, false); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// gaConn is one client connection numbering its own requests.
type gaConn struct {
	*rawClient
	corr int32
}

func (ab *gaBroker) connect(t *testing.T) *gaConn {
	return &gaConn{rawClient: dial(t, ab.addr)}
}

// gaCall sends req at the version it carries and returns the decoded
// response.
func gaCall[R kmsg.Response](c *gaConn, req kmsg.Request) R {
	c.t.Helper()
	c.corr++
	return c.roundTrip(req, c.corr).(R)
}

// gaPending is a request sent but not yet answered: JoinGroup and SyncGroup
// block until the rebalance step completes, while the test drives other
// members on their own connections.
type gaPending[R kmsg.Response] struct {
	c    *gaConn
	corr int32
	resp R
}

func gaStart[R kmsg.Response](c *gaConn, req kmsg.Request) *gaPending[R] {
	c.t.Helper()
	c.corr++
	c.send(req, c.corr)
	return &gaPending[R]{c: c, corr: c.corr, resp: req.ResponseKind().(R)}
}

func (p *gaPending[R]) wait() R {
	p.c.t.Helper()
	p.c.receive(p.resp, p.corr)
	return p.resp
}

// gaWantErr fails unless code is want's code (nil for success).
func gaWantErr(t *testing.T, what string, code int16, want *kerr.Error) {
	t.Helper()
	var wantCode int16
	if want != nil {
		wantCode = want.Code
	}
	if code != wantCode {
		t.Fatalf("%s: error %v, want %v", what, kerr.ErrorForCode(code), want)
	}
}

// gaEventually retries check until it returns true or the test times out.
func gaEventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
