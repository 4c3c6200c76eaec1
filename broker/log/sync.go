package log

import (
	"errors"
	"fmt"
	"time"
)

// AwaitDurable returns once every offset below end is fsynced. The first
// caller to find no fsync running starts one that covers everything written
// so far; callers arriving meanwhile wait for it and, if it did not cover
// them, start the next one. So one fsync serves every append that arrived
// while the previous one ran (group commit).
func (l *Log) AwaitDurable(end int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	for {
		l.mu.RLock()
		durable, failed, closed := l.durable, l.failed, l.closed
		l.mu.RUnlock()
		switch {
		case durable >= end:
			return nil
		case failed != nil:
			return failed
		case closed:
			return ErrClosed
		case l.syncing:
			l.syncCond.Wait()
			continue
		}
		l.syncing = true
		l.syncMu.Unlock()
		err := l.syncActive()
		l.syncMu.Lock()
		l.syncing = false
		l.syncCond.Broadcast()
		if err != nil {
			return err
		}
	}
}

// syncActive fsyncs the active segment and publishes what it covered.
// Segments before the active one were synced when they rolled.
func (l *Log) syncActive() error {
	l.mu.RLock()
	if err := l.usable(); err != nil {
		l.mu.RUnlock()
		return err
	}
	s := l.segs[len(l.segs)-1]
	size, next := s.size, l.next
	s.acquire()
	l.mu.RUnlock()
	defer s.release()

	err := s.f.Sync()
	l.fsyncs.Add(1)

	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// what is on disk is unknown until a reopen re-validates it.
		l.failed = fmt.Errorf("%w: fsync %s: %v", ErrFailed, s.path(logSuffix), err)
		l.wakeWaiters()
		return l.failed
	}
	if next > l.durable {
		l.durable = next
	}
	if l.cfg.Sync == SyncOnAck {
		l.publish(s, size, next)
	}
	return nil
}

// wakeWaiters wakes readers blocked in WaitFor (and WaitForWritten: the
// log may have closed or failed). Called with mu held.
func (l *Log) wakeWaiters() {
	close(l.notify)
	l.notify = make(chan struct{})
	l.wakeWritten()
}

// wakeWritten wakes readers blocked in WaitForWritten, if any. Called with
// mu held.
func (l *Log) wakeWritten() {
	if l.writeWaiters {
		close(l.written)
		l.written = make(chan struct{})
		l.writeWaiters = false
	}
}

// syncEvery runs the SyncInterval policy.
func (l *Log) syncEvery(d time.Duration) {
	defer close(l.intervalDone)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-l.stopInterval:
			return
		case <-t.C:
			l.mu.RLock()
			dirty := l.durable < l.next && l.usable() == nil
			l.mu.RUnlock()
			if dirty {
				if err := l.syncActive(); err != nil {
					l.cfg.Logger.Error("interval fsync failed", "dir", l.dir, "err", err)
				}
			}
		}
	}
}

// Sync fsyncs everything appended so far, whatever the policy.
func (l *Log) Sync() error {
	l.mu.RLock()
	end := l.next
	l.mu.RUnlock()
	return l.AwaitDurable(end)
}

// syncOnKick runs under SyncOnAck: after each Write it makes sure an fsync
// covering it happens, sharing it with any appender waiting in AwaitDurable.
// Unless a reader already waits for the data, it first lets writes collect
// for up to Config.SyncDelay, or until a reader starts waiting.
func (l *Log) syncOnKick() {
	defer close(l.intervalDone)
	var delay *time.Timer
	for {
		select {
		case <-l.stopInterval:
			return
		case <-l.kick:
		}
		if d := l.cfg.SyncDelay; d > 0 && l.durableWaiters.Load() == 0 {
			if delay == nil {
				delay = time.NewTimer(d)
			} else {
				delay.Reset(d)
			}
			select {
			case <-l.stopInterval: // Close syncs
				delay.Stop()
				return
			case <-l.readerWaiting:
			case <-delay.C:
			}
			delay.Stop()
		}
		l.mu.RLock()
		end := l.next
		l.mu.RUnlock()
		if err := l.AwaitDurable(end); err != nil && !errors.Is(err, ErrClosed) {
			l.cfg.Logger.Error("background fsync failed", "dir", l.dir, "err", err)
		}
	}
}
