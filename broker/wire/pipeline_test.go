package wire

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestPipelinedResponsesComeBackInRequestOrder(t *testing.T) {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		// Later requests often finish first.
		time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
		return metadataEcho(ctx, rc, req)
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)

	const n = 50
	var batch []byte
	for i := range n {
		// Mix flexible (v9) and non-flexible versions on one connection.
		req := metadataRequest(int16(4+5*(i%2)), fmt.Sprintf("topic-%d", i))
		batch = append(batch, encodeRequest(req, int32(1000+i))...)
	}
	c.sendRaw(batch)
	for i := range n {
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = int16(4 + 5*(i%2))
		c.receive(resp, int32(1000+i))
		if got, want := echoedTopic(t, resp), fmt.Sprintf("topic-%d", i); got != want {
			t.Fatalf("response %d echoes %q, want %q", i, got, want)
		}
	}
}

func TestSlowRequestDoesNotHoldUpDecoding(t *testing.T) {
	secondRan := make(chan struct{})
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		if rc.CorrelationID == 1 {
			// Like a long-poll Fetch: waits for something a later
			// request causes.
			select {
			case <-secondRan:
			case <-time.After(testTimeout):
				return nil, fmt.Errorf("second request never ran while the first waited")
			}
		} else {
			close(secondRan)
		}
		return metadataEcho(ctx, rc, req)
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "first"), 1)
	c.send(metadataRequest(4, "second"), 2)
	first := kmsg.NewPtrMetadataResponse()
	first.Version = 4
	c.receive(first, 1)
	second := kmsg.NewPtrMetadataResponse()
	second.Version = 4
	c.receive(second, 2)
	if echoedTopic(t, first) != "first" || echoedTopic(t, second) != "second" {
		t.Fatal("responses mixed up")
	}
}

func TestInFlightRequestsAreBounded(t *testing.T) {
	const limit = 3
	var running, peak atomic.Int32
	release := make(chan struct{})
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		now := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		<-release
		return metadataEcho(ctx, rc, req)
	})
	ts := startServer(t, Config{Handlers: reg, MaxInFlightRequests: limit})
	c := dial(t, ts.addr)
	const n = 10
	for i := range n {
		c.send(metadataRequest(4, fmt.Sprint(i)), int32(i))
	}
	waitFor(t, func() bool { return running.Load() == limit })
	time.Sleep(50 * time.Millisecond) // room for a wrongly admitted fourth
	if got := running.Load(); got != limit {
		t.Fatalf("%d handlers running, want %d", got, limit)
	}
	close(release)
	for i := range n {
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = 4
		c.receive(resp, int32(i))
	}
	if got := peak.Load(); got != limit {
		t.Fatalf("peak of %d concurrent handlers, want %d", got, limit)
	}
}

func TestNilResponseWritesNothing(t *testing.T) {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		if rc.CorrelationID%2 == 0 {
			return nil, nil // as Produce with acks=0
		}
		return metadataEcho(ctx, rc, req)
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	for corr := range int32(6) {
		c.send(metadataRequest(4, "t"), corr)
	}
	for _, corr := range []int32{1, 3, 5} {
		resp := kmsg.NewPtrMetadataResponse()
		resp.Version = 4
		c.receive(resp, corr)
	}
}

func TestInflightLimiterBoundsBytes(t *testing.T) {
	l := newInflightLimiter(10, 100)
	ctx := context.Background()
	if err := l.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	if l.tryAcquire(50) {
		t.Fatal("admitted 110 bytes against a 100-byte budget")
	}
	if !l.tryAcquire(40) {
		t.Fatal("refused a request that fits")
	}
	var wg sync.WaitGroup
	admitted := make(chan struct{})
	wg.Go(func() {
		if err := l.acquire(ctx, 500); err == nil {
			close(admitted)
		}
	})
	l.release(60)
	select {
	case <-admitted:
		t.Fatal("oversized request admitted while another was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	l.release(40)
	select {
	case <-admitted: // alone, an oversized request is served
	case <-time.After(testTimeout):
		t.Fatal("oversized request never admitted once alone")
	}
	wg.Wait()

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.acquire(cancelled, 1); err == nil {
		t.Fatal("acquire past the budget ignored a cancelled context")
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
