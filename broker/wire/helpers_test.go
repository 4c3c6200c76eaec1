package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// testTimeout bounds every wait in these tests, so a bug fails fast rather
// than hanging the package.
const testTimeout = 5 * time.Second

// logBuffer collects a server's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.FieldsFunc(b.buf.String(), func(r rune) bool { return r == '\n' })
}

// linesContaining returns the lines holding every one of subs.
func (b *logBuffer) linesContaining(subs ...string) []string {
	var out []string
	for _, l := range b.lines() {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// testServer is a Server serving on 127.0.0.1 for one test.
type testServer struct {
	*Server
	addr     string
	logs     *logBuffer
	serveErr chan error
}

// startServer serves reg with cfg on a free loopback port; the server is
// closed when the test ends.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts := &testServer{Server: srv, addr: ln.Addr().String(), logs: logs, serveErr: make(chan error, 1)}
	go func() { ts.serveErr <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := ts.waitServe(t); !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

func (ts *testServer) waitServe(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.serveErr:
		ts.serveErr <- err // keep it for the cleanup's check
		return err
	case <-time.After(testTimeout):
		t.Fatal("Serve did not return")
		return nil
	}
}

// rawClient speaks the protocol over a plain TCP connection, so tests can
// send exactly the bytes they mean to.
type rawClient struct {
	t    *testing.T
	conn *net.TCPConn
}

func dial(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, conn: c.(*net.TCPConn)}
}

// encodeRequest frames req as a client would, with client id "test".
func encodeRequest(req kmsg.Request, correlationID int32) []byte {
	return kmsg.NewRequestFormatter(kmsg.FormatterClientID("test")).AppendRequest(nil, req, correlationID)
}

func (c *rawClient) send(req kmsg.Request, correlationID int32) {
	c.t.Helper()
	c.sendRaw(encodeRequest(req, correlationID))
}

func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(testTimeout))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readFrame reads one response frame and returns its correlation id and
// the bytes after it.
func (c *rawClient) readFrame() (int32, []byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	var size [4]byte
	if _, err := io.ReadFull(c.conn, size[:]); err != nil {
		return 0, nil, err
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c.conn, frame); err != nil {
		return 0, nil, err
	}
	if len(frame) < 4 {
		return 0, nil, fmt.Errorf("%d-byte response frame", len(frame))
	}
	return int32(binary.BigEndian.Uint32(frame)), frame[4:], nil
}

// receive reads the next response into resp, whose key and version say how
// to decode it, and checks its correlation id.
func (c *rawClient) receive(resp kmsg.Response, wantCorrelationID int32) {
	c.t.Helper()
	corr, rest, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("reading response %d: %v", wantCorrelationID, err)
	}
	if corr != wantCorrelationID {
		c.t.Fatalf("correlation id %d, want %d", corr, wantCorrelationID)
	}
	if resp.IsFlexible() && resp.Key() != apiVersionsKey {
		if len(rest) == 0 || rest[0] != 0 {
			c.t.Fatalf("flexible response header: want an empty tag section, got % x", rest[:min(len(rest), 4)])
		}
		rest = rest[1:]
	}
	if err := resp.ReadFrom(rest); err != nil {
		c.t.Fatalf("decoding %s v%d response: %v", apiName(resp.Key()), resp.GetVersion(), err)
	}
}

// roundTrip sends req and decodes its response.
func (c *rawClient) roundTrip(req kmsg.Request, correlationID int32) kmsg.Response {
	c.t.Helper()
	c.send(req, correlationID)
	resp := req.ResponseKind()
	c.receive(resp, correlationID)
	return resp
}

// expectClosed checks the server closes the connection without answering.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(testTimeout))
	n, err := c.conn.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case n > 0:
		c.t.Fatal("server answered; want the connection closed")
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatal("connection still open; want it closed")
	case err == nil:
		c.t.Fatal("read returned nothing and no error")
	}
}

// metadataEcho answers Metadata by echoing the requested topic names, so a
// test can tell which request a response belongs to.
func metadataEcho(_ context.Context, _ *RequestContext, req kmsg.Request) (Response, error) {
	m := req.(*kmsg.MetadataRequest)
	resp := m.ResponseKind().(*kmsg.MetadataResponse)
	for _, topic := range m.Topics {
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = topic.Topic
		resp.Topics = append(resp.Topics, rt)
	}
	return Message(resp), nil
}

// metadataRequest asks for one topic, at a version where topic names are
// plain strings.
func metadataRequest(version int16, topic string) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = version
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	return req
}

func echoedTopic(t *testing.T, resp kmsg.Response) string {
	t.Helper()
	m := resp.(*kmsg.MetadataResponse)
	if len(m.Topics) != 1 || m.Topics[0].Topic == nil {
		t.Fatalf("metadata response has topics %+v, want one named", m.Topics)
	}
	return *m.Topics[0].Topic
}

// mustHandle registers a handler or fails the test.
func mustHandle(t testing.TB, reg *Registry, key, minV, maxV int16, h HandlerFunc, opts ...HandleOption) {
	t.Helper()
	if err := reg.Handle(key, minV, maxV, h, opts...); err != nil {
		t.Fatalf("Handle: %v", err)
	}
}
