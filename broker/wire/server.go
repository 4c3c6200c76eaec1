package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config configures a Server. Zero values take the defaults noted.
type Config struct {
	// Handlers serves the API keys besides ApiVersions. NewServer copies
	// it. Nil serves ApiVersions only.
	Handlers *Registry
	// Logger receives one line per connection closed for cause. Default:
	// slog.Default().
	Logger *slog.Logger
	// MaxRequestSize is the largest request frame accepted, in bytes,
	// like Kafka's socket.request.max.bytes. Default 100 MiB.
	MaxRequestSize int32
	// MaxInFlightRequests bounds the requests one connection may have
	// read but not yet answered. Default 64.
	MaxInFlightRequests int
	// MaxInFlightBytes bounds the request bytes one connection may hold
	// unanswered; a single request larger than this is still served, on
	// its own. Default: MaxRequestSize.
	MaxInFlightBytes int64
}

const (
	defaultMaxRequestSize      = 100 << 20
	defaultMaxInFlightRequests = 64
)

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRequestSize == 0 {
		cfg.MaxRequestSize = defaultMaxRequestSize
	}
	if cfg.MaxInFlightRequests == 0 {
		cfg.MaxInFlightRequests = defaultMaxInFlightRequests
	}
	if cfg.MaxInFlightBytes == 0 {
		cfg.MaxInFlightBytes = int64(cfg.MaxRequestSize)
	}
	switch {
	case cfg.MaxRequestSize < minRequestSize:
		return cfg, fmt.Errorf("wire: MaxRequestSize %d is below the smallest request (%d bytes)", cfg.MaxRequestSize, minRequestSize)
	case cfg.MaxInFlightRequests < 1:
		return cfg, fmt.Errorf("wire: MaxInFlightRequests %d must be positive", cfg.MaxInFlightRequests)
	case cfg.MaxInFlightBytes < 1:
		return cfg, fmt.Errorf("wire: MaxInFlightBytes %d must be positive", cfg.MaxInFlightBytes)
	}
	return cfg, nil
}

// Server serves the Kafka protocol on any number of listeners.
type Server struct {
	cfg        Config
	log        *slog.Logger
	routes     *routeTable
	nextConnID atomic.Uint64

	mu        sync.Mutex
	closed    bool
	done      chan struct{} // closed with closed, to end accept backoffs
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	connsWG   sync.WaitGroup
}

// NewServer validates cfg and returns a server ready to Serve.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		done:      make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
	}
	s.routes, err = newRouteTable(cfg.Handlers, apiVersionsRoute(s))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Serve accepts connections on ln and serves each on its own goroutines
// until the server is closed, then returns ErrServerClosed. Any other accept
// failure is returned as is; the connections already accepted keep running
// until Close or Shutdown. Serve closes ln before returning.
func (s *Server) Serve(ln net.Listener) error {
	if !s.trackListener(ln) {
		_ = ln.Close()
		return ErrServerClosed
	}
	defer s.untrackListener(ln)
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if !isTransientAcceptError(err) {
				_ = ln.Close()
				return fmt.Errorf("wire: accepting on %s: %w", ln.Addr(), err)
			}
			// Out of descriptors or a connection aborted while queued:
			// wait a little rather than spin, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("wire: accept failed, retrying", slog.String("listener", ln.Addr().String()),
				slog.String("err", err.Error()), slog.Duration("retry_in", backoff))
			select {
			case <-time.After(backoff):
			case <-s.done:
			}
			continue
		}
		backoff = 0
		c := s.newConn(nc)
		if !s.trackConn(c) {
			c.abort(ErrServerClosed)
			continue
		}
		go func() {
			defer s.untrackConn(c)
			c.serve()
		}()
	}
}

func isTransientAcceptError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) ||
		errors.Is(err, syscall.ENOMEM)
}

// Close stops the server now: it closes every listener and connection,
// cancels the contexts of running handlers, and returns once every
// connection goroutine, handlers included, has returned.
func (s *Server) Close() error {
	listeners, conns := s.markClosed()
	err := closeListeners(listeners)
	for _, c := range conns {
		c.abort(ErrServerClosed)
	}
	s.connsWG.Wait()
	return err
}

// Shutdown stops the server gracefully: it closes the listeners, stops
// reading requests, lets requests already read finish and their responses
// be written, then closes the connections. If ctx ends first, it falls back
// to Close and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	listeners, conns := s.markClosed()
	err := closeListeners(listeners)
	for _, c := range conns {
		c.drain()
	}
	drained := make(chan struct{})
	go func() {
		s.connsWG.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		return err
	case <-ctx.Done():
		return errors.Join(err, s.Close(), fmt.Errorf("wire: shutdown: %w", ctx.Err()))
	}
}

// markClosed refuses new listeners and connections and returns the current
// ones.
func (s *Server) markClosed() ([]net.Listener, []*conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	listeners := make([]net.Listener, 0, len(s.listeners))
	for ln := range s.listeners {
		listeners = append(listeners, ln)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return listeners, conns
}

func closeListeners(listeners []net.Listener) error {
	var errs []error
	for _, ln := range listeners {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("wire: closing listener %s: %w", ln.Addr(), err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) trackListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrackListener(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

// trackConn registers c, and its goroutine in connsWG, unless the server is
// closed; holding mu orders every Add before Close's Wait.
func (s *Server) trackConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.connsWG.Add(1)
	return true
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.connsWG.Done()
}
