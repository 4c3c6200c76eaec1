package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
)

// Client is broker.Client over a Kafka cluster, through sarama. It is safe
// for concurrent use.
type Client struct {
	cfg   Config
	sc    sarama.Client
	admin sarama.ClusterAdmin
	conns *pool
	prod  *producer
	log   *slog.Logger

	mu        sync.Mutex // guards closed and the Add side of inflight
	closed    bool
	inflight  sync.WaitGroup // calls running, including those their caller left
	closeOnce sync.Once
	closeErr  error
}

var _ broker.Client = (*Client)(nil)

// New connects to the cluster: it returns once a bootstrap server has
// answered a metadata request, or fails with ErrUnreachable after
// cfg.ConnectTimeout.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	sconf, err := cfg.sarama()
	if err != nil {
		return nil, err
	}
	type result struct {
		sc    sarama.Client
		admin sarama.ClusterAdmin
		err   error
	}
	done := make(chan result, 1)
	go func() {
		sc, err := sarama.NewClient(cfg.Brokers, sconf)
		if err != nil {
			done <- result{err: err}
			return
		}
		// NewClient has fetched the cluster's metadata: that was the
		// connectivity check.
		admin, err := sarama.NewClusterAdminFromClient(sc)
		if err != nil {
			_ = sc.Close()
		}
		done <- result{sc, admin, err}
	}()
	timer := time.NewTimer(cfg.ConnectTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		switch {
		case errors.Is(r.err, sarama.ErrSASLAuthenticationFailed), errors.Is(r.err, ErrSCRAM):
			return nil, fmt.Errorf("%w: %s as %q at %v: %w", ErrAuthentication, cfg.SASL.Mechanism, cfg.SASL.User, cfg.Brokers, r.err)
		case r.err != nil:
			return nil, fmt.Errorf("%w: bootstrap servers %v: %w", ErrUnreachable, cfg.Brokers, r.err)
		}
		return &Client{cfg: cfg, sc: r.sc, admin: r.admin, conns: newPool(sconf), prod: newProducer(), log: cfg.Logger}, nil
	case <-timer.C:
		go func() { // release the attempt whenever it gives up
			if r := <-done; r.err == nil {
				_ = r.admin.Close()
			}
		}()
		return nil, fmt.Errorf("%w: no answer from bootstrap servers %v within %v", ErrUnreachable, cfg.Brokers, cfg.ConnectTimeout)
	}
}

// Close waits for the requests in flight (a fetch waits at most
// fetchSlice; an append up to Config.RequestTimeout), then closes the
// client's connections (not the cluster). Calls after Close fail with
// broker.ErrClosed.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.inflight.Wait()
		c.conns.close()
		if err := c.admin.Close(); err != nil && !errors.Is(err, sarama.ErrClosedClient) {
			c.closeErr = fmt.Errorf("kafka: close: %w", err)
		}
	})
	return c.closeErr
}

// call runs f and returns its result, or ctx's error as soon as ctx ends
// (sarama's calls take no context; f then finishes in the background, Close
// waits for it, and its result is dropped).
func call[T any](c *Client, ctx context.Context, f func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, fmt.Errorf("kafka: %w", broker.ErrClosed)
	}
	c.inflight.Add(1)
	c.mu.Unlock()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer c.inflight.Done()
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// retry runs op until it succeeds, fails with an error that is not
// retriable, runs out of retries or ctx ends; refresh runs before each
// retry (a metadata or coordinator refresh).
func (c *Client) retry(ctx context.Context, op func() error, refresh func()) error {
	backoff := c.cfg.RetryBackoff
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || !retriable(err) || attempt >= c.cfg.Retries || ctx.Err() != nil {
			return err
		}
		c.log.Debug("kafka: retrying", "attempt", attempt+1, "err", err)
		if refresh != nil {
			refresh()
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
		backoff = min(2*backoff, time.Second)
	}
}

// onLeader runs op on a pooled connection to the partition's leader,
// retrying retriable errors after a metadata refresh.
func (c *Client) onLeader(ctx context.Context, topic string, partition int32, op func(conn *sarama.Broker) error) error {
	return c.retry(ctx, func() error {
		leader, err := c.sc.Leader(topic, partition)
		if err != nil {
			return mapErr(err)
		}
		conn, err := c.conns.get(leader.Addr())
		if err != nil {
			return err
		}
		err = op(conn)
		c.conns.put(conn, err)
		return err
	}, func() { _ = c.sc.RefreshMetadata(topic) })
}

// partitionErr wraps an operation's error with its topic partition.
func partitionErr(op, topic string, partition int32, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("kafka: %s %s-%d: %w", op, topic, partition, err)
}

func millis(d time.Duration) int32 { return int32(d / time.Millisecond) }
