package wire

import (
	"context"
	"sync"
)

// inflightLimiter bounds the requests one connection holds between reading
// them and writing their responses, by count and by bytes of request frames.
// A single request larger than the byte budget is still admitted when
// nothing else is in flight, so every request the size limit allows can be
// served.
//
// One goroutine (the connection's reader) acquires and one (its writer)
// releases, so a one-slot wake channel cannot lose a wakeup.
type inflightLimiter struct {
	maxCount int
	maxBytes int64
	wake     chan struct{}

	mu    sync.Mutex
	count int
	bytes int64
}

func newInflightLimiter(maxCount int, maxBytes int64) *inflightLimiter {
	return &inflightLimiter{maxCount: maxCount, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// acquire waits until a request of n bytes fits, or ctx ends.
func (l *inflightLimiter) acquire(ctx context.Context, n int64) error {
	for {
		if l.tryAcquire(n) {
			return nil
		}
		select {
		case <-l.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *inflightLimiter) tryAcquire(n int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count >= l.maxCount || (l.count > 0 && l.bytes+n > l.maxBytes) {
		return false
	}
	l.count++
	l.bytes += n
	return true
}

func (l *inflightLimiter) release(n int64) {
	l.mu.Lock()
	l.count--
	l.bytes -= n
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
