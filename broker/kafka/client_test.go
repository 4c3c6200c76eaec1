package kafka_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/kafka"
)

// backends runs fn against the embedded broker over the Kafka protocol and
// against Apache Kafka.
func backends(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Run("wire", func(t *testing.T) {
		_, addr := wireBroker(t)
		fn(t, addr)
	})
	t.Run("kafka", func(t *testing.T) { fn(t, kafkaAddr(t)) })
}

func TestNewUnreachable(t *testing.T) {
	// A port nobody listens on: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	// A listener that accepts and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	for _, addr := range []string{refused, silent.Addr().String()} {
		start := time.Now()
		c, err := kafka.New(kafka.Config{Brokers: []string{addr}, ConnectTimeout: time.Second, DialTimeout: 500 * time.Millisecond, Logger: quietLogger()})
		took := time.Since(start)
		if err == nil {
			c.Close()
			t.Fatalf("New(%s) succeeded", addr)
		}
		if !errors.Is(err, kafka.ErrUnreachable) || !strings.Contains(err.Error(), addr) {
			t.Errorf("New(%s): %v, want ErrUnreachable naming the address", addr, err)
		}
		if took > 5*time.Second { // 1 s and the time a loaded machine adds
			t.Errorf("New(%s) took %v with ConnectTimeout 1s", addr, took)
		}
		t.Logf("New(%s) failed in %v: %v", addr, took.Round(time.Millisecond), err)
	}
}

// TestCleanupPolicy: an existing topic whose cleanup.policy differs from the
// spec's is an error naming both; the same set in another order is not.
func TestCleanupPolicy(t *testing.T) {
	backends(t, func(t *testing.T, addr string) {
		c := newClient(t, addr)
		defer c.Close()
		ctx := context.Background()
		name := uniqueName(t, "policy")
		spec := func(policy string) broker.TopicSpec {
			return broker.TopicSpec{Name: name, Partitions: 2, Configs: map[string]string{"cleanup.policy": policy}}
		}
		if err := c.CreateTopics(ctx, spec("compact,delete")); err != nil {
			t.Fatal(err)
		}
		if err := c.CreateTopics(ctx, spec("delete,compact"), broker.TopicSpec{Name: name}); err != nil {
			t.Fatalf("same policy, other order, or no policy: %v", err)
		}
		err := c.CreateTopics(ctx, spec("compact"))
		if !errors.Is(err, broker.ErrInvalidConfig) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "compact,delete") {
			t.Fatalf("policy mismatch: %v", err)
		}
	})
}

// TestIdempotentAppends: appends carry one producer id and consecutive
// sequences (visible in the fetched batch headers); without idempotence
// they carry none.
func TestIdempotentAppends(t *testing.T) {
	backends(t, func(t *testing.T, addr string) {
		ctx := context.Background()
		c := newClient(t, addr)
		defer c.Close()
		topic := uniqueName(t, "idem")
		if err := c.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		sizes := []int{3, 1, 4}
		for _, n := range sizes {
			b := batch.NewBuilder(batch.BuilderOptions{})
			for i := 0; i < n; i++ {
				b.Add(batch.Record{Value: []byte("x"), Timestamp: time.Now().UnixMilli()})
			}
			data, _ := b.Build(nil)
			if _, err := c.Append(ctx, topic, 0, data); err != nil {
				t.Fatal(err)
			}
		}
		plain, err := kafka.New(kafka.Config{Brokers: []string{addr}, DisableIdempotence: true, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		b := batch.NewBuilder(batch.BuilderOptions{})
		b.Add(batch.Record{Value: []byte("y")})
		data, _ := b.Build(nil)
		if _, err := plain.Append(ctx, topic, 0, data); err != nil {
			t.Fatal(err)
		}

		res, err := c.Fetch(ctx, topic, 0, 0, 1<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		var headers []batch.Header
		for rest := res.Batches; len(rest) > 0; {
			one, r, err := batch.Next(rest)
			if err != nil {
				t.Fatal(err)
			}
			h, _ := batch.ParseHeader(one)
			headers = append(headers, h)
			rest = r
		}
		if len(headers) != 4 {
			t.Fatalf("%d batches, want 4", len(headers))
		}
		id, seq := headers[0].ProducerID, int32(0)
		for i, n := range sizes {
			h := headers[i]
			if id < 0 || h.ProducerID != id || h.BaseSequence != seq {
				t.Fatalf("batch %d: producer %d sequence %d, want producer %d (>= 0) sequence %d", i, h.ProducerID, h.BaseSequence, id, seq)
			}
			seq += int32(n)
		}
		if h := headers[3]; h.ProducerID != -1 || h.BaseSequence != -1 {
			t.Fatalf("append without idempotence: producer %d sequence %d", h.ProducerID, h.BaseSequence)
		}
	})
}

// TestCloseEndsWaits: Close returns soon even with a fetch waiting at the
// broker, and calls after it fail with broker.ErrClosed.
func TestCloseEndsWaits(t *testing.T) {
	_, addr := wireBroker(t)
	c := newClient(t, addr)
	ctx := context.Background()
	topic := uniqueName(t, "close")
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(fctx, topic, 0, 0, 1<<20, 20*time.Second)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled fetch: %v", err)
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Close took %v", took)
	}
	if _, err := c.Partitions(ctx, topic); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Partitions after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// uniqueName is a topic or group name unique to this test run.
func uniqueName(t *testing.T, what string) string {
	return strings.NewReplacer("/", "-", "#", "-").Replace(t.Name()) + "-" + what + "-" + time.Now().Format("150405.000000")
}
