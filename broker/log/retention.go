package log

import (
	"errors"
	"fmt"
)

// EnforceRetention deletes whole segments from the start of the log while
// they are past Config.RetentionTime (their newest record is older) or while
// the log without them is still at least Config.RetentionBytes, as Kafka
// does. The active segment is never deleted. The log start offset advances
// to the first remaining segment. It returns how many segments went.
func (l *Log) EnforceRetention() (int, error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if !l.cfg.Delete {
		l.mu.Unlock()
		return 0, nil
	}
	var total int64
	for _, s := range l.segs {
		total += s.size
	}
	now := l.cfg.Now()
	n := 0
	for n < len(l.segs)-1 {
		s := l.segs[n]
		expired := l.cfg.RetentionTime >= 0 && s.maxTs >= 0 && now.UnixMilli()-s.maxTs > l.cfg.RetentionTime.Milliseconds()
		oversize := l.cfg.RetentionBytes >= 0 && total-s.size >= l.cfg.RetentionBytes
		if !expired && !oversize {
			break
		}
		total -= s.size
		n++
	}
	gone := l.segs[:n:n]
	l.segs = l.segs[n:]
	l.mu.Unlock()
	if n == 0 {
		return 0, nil
	}
	var errs []error
	for _, s := range gone {
		l.cfg.Logger.Info("retention deleted segment", "segment", s.path(logSuffix), "bytes", s.size)
		errs = append(errs, s.remove())
		s.release()
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		errs = append(errs, fmt.Errorf("log: sync %s: %w", l.dir, err))
	}
	return n, errors.Join(errs...)
}
