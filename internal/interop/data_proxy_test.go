package interop

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/wire"
)

// pcProxy forwards Kafka connections to a broker, and can withhold the
// response to chosen produce requests: it passes the request on, then closes
// the client's connection while letting the broker finish and answer into
// the void. The client sees a request that may or may not have been written
// and must retry it; the broker must recognise the retry.
type pcProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	produces int          // produce requests forwarded so far
	dropAt   map[int]bool // 1-based produce request numbers to withhold
	dropped  int
	conns    sync.WaitGroup
}

func startPCProxy(t *testing.T, target string) *pcProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pcProxy{ln: ln, target: target, dropAt: map[int]bool{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.conns.Wait()
	})
	return p
}

func (p *pcProxy) addr() string { return p.ln.Addr().String() }

// dropProduceResponses withholds the responses of the produce requests with
// these 1-based sequence numbers.
func (p *pcProxy) dropProduceResponses(nth ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range nth {
		p.dropAt[n] = true
	}
}

func (p *pcProxy) droppedResponses() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

func (p *pcProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		go func() {
			defer p.conns.Done()
			p.forward(c.(*net.TCPConn))
		}()
	}
}

func (p *pcProxy) forward(client *net.TCPConn) {
	defer client.Close()
	sc, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	server := sc.(*net.TCPConn)
	defer server.Close()
	responses := make(chan struct{})
	go func() {
		defer close(responses)
		_, _ = io.Copy(client, server)
		// The client's side may be closed on purpose: keep reading so
		// the broker completes and answers what it was sent.
		_, _ = io.Copy(io.Discard, server)
	}()
	requests := bufio.NewReader(client)
	for {
		frame, err := pcReadFrame(requests)
		if err == nil {
			_, err = server.Write(frame)
		}
		if err != nil {
			_ = server.CloseWrite()
			break
		}
		if pcAPIKey(frame) == 0 && p.withhold() {
			client.Close()
			_ = server.CloseWrite()
			break
		}
	}
	<-responses
}

// withhold counts a produce request and says whether to drop its response.
func (p *pcProxy) withhold() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.produces++
	if p.dropAt[p.produces] {
		p.dropped++
		return true
	}
	return false
}

// pcReadFrame reads one size-prefixed request, prefix included.
func pcReadFrame(r *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 2 || n > 64<<20 {
		return nil, fmt.Errorf("request frame of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, size[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

func pcAPIKey(frame []byte) int16 { return int16(binary.BigEndian.Uint16(frame[4:])) }

// pcProxiedBroker is a broker whose advertised address is a pcProxy, so
// every connection a client makes after bootstrap goes through it.
type pcProxiedBroker struct {
	tb    *testBroker
	proxy *pcProxy
}

func pcStartBehindProxy(t *testing.T) *pcProxiedBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := startPCProxy(t, ln.Addr().String())
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	b, err := broker.Open(broker.Config{Dir: dir, Logger: logger, Groups: group.Config{InitialRebalanceDelay: -1}})
	if err != nil {
		ln.Close()
		t.Fatalf("open broker: %v", err)
	}
	host, port, err := wire.SplitHostPort(proxy.addr())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	tb := &testBroker{Addr: ln.Addr().String(), Dir: dir, Broker: b, server: srv, ln: ln, served: make(chan error, 1)}
	go func() { tb.served <- srv.Serve(ln) }()
	// Registered after the proxy's cleanup, so it runs first: the broker
	// stops, then the proxy's connections end.
	t.Cleanup(func() { tb.Stop(t) })
	return &pcProxiedBroker{tb: tb, proxy: proxy}
}
