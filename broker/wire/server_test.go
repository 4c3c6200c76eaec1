package wire

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestNewServerValidatesConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"request size below a header": {MaxRequestSize: 4},
		"negative in-flight requests": {MaxInFlightRequests: -1},
		"negative in-flight bytes":    {MaxInFlightBytes: -1},
	} {
		if _, err := NewServer(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.cfg.MaxRequestSize != 100<<20 || srv.cfg.MaxInFlightRequests != 64 || srv.cfg.MaxInFlightBytes != 100<<20 {
		t.Fatalf("defaults: %+v", srv.cfg)
	}
}

func TestCloseCancelsInFlightHandlers(t *testing.T) {
	started := make(chan struct{})
	sawCancel := make(chan error, 1)
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, _ *RequestContext, _ kmsg.Request) (Response, error) {
		close(started)
		<-ctx.Done()
		sawCancel <- ctx.Err()
		return nil, ctx.Err()
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "t"), 1)
	<-started

	if err := ts.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close returned, so the handler has returned too.
	select {
	case err := <-sawCancel:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler saw %v", err)
		}
	default:
		t.Fatal("Close returned before the handler did")
	}
	if err := ts.waitServe(t); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	c.expectClosed()
	if _, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		t.Fatal("listener still accepting after Close")
	}
	if lines := ts.logs.linesContaining("closing connection"); len(lines) != 0 {
		t.Fatalf("server close logged as a fault: %q", lines)
	}
}

func TestShutdownAnswersRequestsAlreadyRead(t *testing.T) {
	started := make(chan struct{})
	finish := make(chan struct{})
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		close(started)
		<-finish // ignores ctx: graceful shutdown must wait for it
		return metadataEcho(ctx, rc, req)
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "in flight"), 1)
	<-started

	shutdown := make(chan error, 1)
	go func() { shutdown <- ts.Shutdown(context.Background()) }()
	if err := ts.waitServe(t); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(finish)
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = 4
	c.receive(resp, 1)
	if got := echoedTopic(t, resp); got != "in flight" {
		t.Fatalf("got %q", got)
	}
	c.expectClosed()
	select {
	case err := <-shutdown:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Shutdown did not return")
	}
}

func TestShutdownPastDeadlineCancelsHandlers(t *testing.T) {
	started := make(chan struct{})
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, _ *RequestContext, _ kmsg.Request) (Response, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "t"), 1)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the deadline", err)
	}
	c.expectClosed()
}

func TestServeAfterCloseReturnsErrServerClosed(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Serve left the listener open")
	}
}

func TestDroppedResponsesAreReleased(t *testing.T) {
	var released atomic.Int32
	secondRan := make(chan struct{})
	reg := NewRegistry()
	// The first request fails, closing the connection; the second's
	// response is never written but must still be released.
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, _ kmsg.Request) (Response, error) {
		if rc.CorrelationID == 1 {
			<-secondRan
			return nil, errors.New("first fails")
		}
		defer close(secondRan)
		p := &Pieces{}
		p.AppendBytes([]byte("never sent"))
		p.OnRelease(func() { released.Add(1) })
		return p, nil
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "a"), 1)
	c.send(metadataRequest(4, "b"), 2)
	c.expectClosed()
	waitFor(t, func() bool { return released.Load() == 1 })
}

func TestSessionStateIsPerConnection(t *testing.T) {
	counter := NewSessionKey[int32]("requests")
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(_ context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		n, _ := counter.Get(rc.Session)
		counter.Set(rc.Session, n+1)
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.ControllerID = n + 1
		name, _ := rc.Session.ClientSoftware()
		resp.ClusterID = &name
		if rc.ClientID != "test" || rc.HeaderVersion != 1 {
			resp.ClusterID = kmsg.StringPtr("unexpected header")
		}
		return Message(resp), nil
	})
	ts := startServer(t, Config{Handlers: reg})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "eddy-client", "0.1"
	a.roundTrip(av, 1)

	req := metadataRequest(4, "t")
	for i, want := range []struct {
		c          *rawClient
		controller int32
		software   string
	}{{a, 1, "eddy-client"}, {a, 2, "eddy-client"}, {b, 1, ""}, {a, 3, "eddy-client"}} {
		resp := want.c.roundTrip(req, int32(10+i)).(*kmsg.MetadataResponse)
		if resp.ControllerID != want.controller || *resp.ClusterID != want.software {
			t.Fatalf("request %d: count %d software %q, want %d %q", i, resp.ControllerID, *resp.ClusterID, want.controller, want.software)
		}
	}
}
