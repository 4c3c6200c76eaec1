package log

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// Log is one partition's durable log: a directory of segments holding Kafka
// RecordBatch v2 bytes. It is safe for concurrent use: appends are
// serialized, reads run in parallel with them and with each other.
//
// A Log does not lock its directory against other processes; the broker
// that owns the data directory does.
type Log struct {
	fs  vfs.FS
	dir string

	mu      sync.RWMutex
	cfg     Config
	segs    []*segment // by base offset; the last one is active
	next    int64      // log end offset: the offset the next batch gets
	hw      int64      // high watermark: offsets below it are visible to readers
	durable int64      // offsets below it are fsynced
	notify  chan struct{}
	// written is closed when a batch is written, if writeWaiters says a
	// WaitForWritten caller wants it (see wakeWritten).
	written      chan struct{}
	writeWaiters bool
	closed       bool
	failed       error // sticky: set when the file's durable state is unknown

	// syncMu guards syncing; syncCond wakes appenders waiting for an
	// fsync (group commit: one syncer at a time, the others wait for it).
	syncMu   sync.Mutex
	syncCond *sync.Cond
	syncing  bool

	// maintMu serializes compaction and retention, which replace and
	// delete sealed segments.
	maintMu sync.Mutex

	// fsyncs counts fsyncs of appended data, for Stats.
	fsyncs atomic.Int64

	// kick wakes the background syncer under SyncOnAck, so data written
	// with Write becomes durable and visible even if nobody awaits it;
	// readerWaiting cuts its SyncDelay short when a reader waits in
	// WaitFor, counted by durableWaiters.
	kick           chan struct{}
	readerWaiting  chan struct{}
	durableWaiters atomic.Int32
	stopInterval   chan struct{}
	intervalDone   chan struct{}
}

// AppendResult tells where an append landed.
type AppendResult struct {
	BaseOffset     int64 // offset of the first record of the first batch
	LastOffset     int64 // offset of the last record of the last batch
	LogStartOffset int64
}

// Open opens the log in dir, creating it if needed, and recovers it: after a
// clean Close it trusts the index files; after an unclean stop it validates
// every batch past the recovery point, rebuilds the indexes and truncates a
// torn tail.
func Open(fs vfs.FS, dir string, cfg Config) (*Log, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &Log{fs: fs, dir: dir, cfg: cfg, notify: make(chan struct{}), written: make(chan struct{})}
	l.syncCond = sync.NewCond(&l.syncMu)
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log: create %s: %w", dir, err)
	}
	// The directory's own entry must be durable before anything in it is.
	if err := fs.SyncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("log: sync %s: %w", filepath.Dir(dir), err)
	}
	if err := l.load(); err != nil {
		l.closeSegments()
		return nil, err
	}
	l.stopInterval, l.intervalDone = make(chan struct{}), make(chan struct{})
	switch cfg.Sync {
	case SyncInterval:
		go l.syncEvery(cfg.SyncInterval)
	case SyncOnAck:
		l.kick, l.readerWaiting = make(chan struct{}, 1), make(chan struct{}, 1)
		go l.syncOnKick()
	default:
		close(l.intervalDone)
	}
	return l, nil
}

func (l *Log) load() error {
	names, err := l.fs.List(l.dir)
	if err != nil {
		return fmt.Errorf("log: list %s: %w", l.dir, err)
	}
	if names, err = l.finishInterruptedWork(names); err != nil {
		return err
	}
	var bases []int64
	clean := false
	for _, n := range names {
		if base, ok := parseSegmentName(n, logSuffix); ok {
			bases = append(bases, base)
		}
		clean = clean || n == cleanShutdownFile
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	now := l.cfg.Now()
	if len(bases) == 0 {
		s, err := createSegment(l.fs, l.dir, 0, now)
		if err != nil {
			return err
		}
		l.segs = []*segment{s}
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("log: sync %s: %w", l.dir, err)
		}
		return nil
	}
	rp := l.readRecoveryPoint()
	for i, base := range bases {
		path := filepath.Join(l.dir, segmentName(base, logSuffix))
		f, err := l.fs.OpenReadWrite(path)
		if err != nil {
			return fmt.Errorf("log: open %s: %w", path, err)
		}
		s := newSegment(l.fs, l.dir, base, f, now)
		l.segs = append(l.segs, s)
		// Segments wholly below the recovery point were synced with their
		// indexes; so was everything after a clean shutdown.
		trusted := clean || (i+1 < len(bases) && bases[i+1] <= rp)
		// Only the last segment can have a torn tail: every other one was
		// fsynced before its successor was created, so damage there is
		// corruption, reported rather than cut away.
		isLast := i == len(bases)-1
		switch {
		case trusted:
			err = l.loadTrusted(s)
		default:
			_, err = l.scan(s, isLast)
		}
		if err != nil {
			return err
		}
		if i > 0 && s.base < l.segs[i-1].next {
			return &CorruptionError{File: path, Position: 0,
				Err: fmt.Errorf("segment base %d overlaps the previous segment ending at %d", s.base, l.segs[i-1].next)}
		}
	}
	last := l.segs[len(l.segs)-1]
	l.next = last.next
	for _, s := range l.segs {
		s.visible = s.size
	}
	l.hw, l.durable = l.next, l.next
	if clean {
		if err := l.fs.Remove(filepath.Join(l.dir, cleanShutdownFile)); err != nil {
			return fmt.Errorf("log: remove clean-shutdown marker: %w", err)
		}
		if err := l.fs.SyncDir(l.dir); err != nil {
			return fmt.Errorf("log: sync %s: %w", l.dir, err)
		}
	}
	return nil
}

// Append validates and appends one or more concatenated batches, stamping
// their base offsets in place (the CRC does not cover them). Either every
// batch is written or none is. Under SyncOnAck it returns once the batches
// are fsynced.
func (l *Log) Append(batches []byte) (AppendResult, error) {
	res, err := l.Write(batches)
	if err != nil {
		return res, err
	}
	if l.cfg.Sync == SyncOnAck {
		if err := l.AwaitDurable(res.LastOffset + 1); err != nil {
			return AppendResult{}, err
		}
	}
	return res, nil
}

// Write is Append without waiting for durability: the batches are written
// to the operating system and, under SyncOnAck, become visible to readers
// and safe from a machine crash only once AwaitDurable(LastOffset+1)
// returns. The broker uses the split to check producer sequences and write
// under one lock, then wait for the fsync outside it.
func (l *Log) Write(batches []byte) (AppendResult, error) {
	hdrs, err := l.validate(batches)
	if err != nil {
		return AppendResult{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.usable(); err != nil {
		return AppendResult{}, err
	}
	res := AppendResult{BaseOffset: l.next, LogStartOffset: l.segs[0].base}
	next, pos := l.next, 0
	for i := range hdrs {
		batch.SetBaseOffset(batches[pos:], next)
		hdrs[i].BaseOffset = next
		next = hdrs[i].LastOffset() + 1
		pos += hdrs[i].Size()
	}
	res.LastOffset = next - 1
	active := l.segs[len(l.segs)-1]
	if !active.fits(len(batches), res.LastOffset, l.cfg.SegmentBytes) || l.aged(active) {
		if err := l.roll(); err != nil {
			return AppendResult{}, err
		}
		active = l.segs[len(l.segs)-1]
	}
	if err := active.append(batches, hdrs, l.cfg.IndexIntervalBytes); err != nil {
		if errors.Is(err, ErrFailed) {
			l.failed = err
		}
		return AppendResult{}, err
	}
	l.next = next
	l.wakeWritten()
	if l.cfg.Sync != SyncOnAck {
		l.publish(active, active.size, next)
	} else {
		select {
		case l.kick <- struct{}{}:
		default: // a kick is already pending
		}
	}
	return res, nil
}

// validate checks every batch before anything is written.
func (l *Log) validate(batches []byte) ([]batch.Header, error) {
	if len(batches) == 0 {
		return nil, fmt.Errorf("%w: no batches", ErrInvalidBatch)
	}
	hdrs := make([]batch.Header, 0, 1)
	var pos int
	for rest := batches; len(rest) > 0; {
		b, r, err := batch.Next(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: batch %d at byte %d: %w", ErrInvalidBatch, len(hdrs), pos, err)
		}
		if len(b) > l.cfg.MaxBatchBytes {
			return nil, fmt.Errorf("%w: batch %d is %d bytes, limit %d", ErrBatchTooLarge, len(hdrs), len(b), l.cfg.MaxBatchBytes)
		}
		h, err := batch.Validate(b, true)
		if err != nil {
			return nil, fmt.Errorf("%w: batch %d at byte %d: %w", ErrInvalidBatch, len(hdrs), pos, err)
		}
		hdrs = append(hdrs, h)
		pos += len(b)
		rest = r
	}
	return hdrs, nil
}

func (l *Log) usable() error {
	if l.closed {
		return ErrClosed
	}
	return l.failed
}

func (l *Log) aged(s *segment) bool {
	return l.cfg.SegmentAge > 0 && s.size > 0 && l.cfg.Now().Sub(s.created) >= l.cfg.SegmentAge
}

// roll seals the active segment (fsynced, indexes written) and starts a new
// one at the log end offset. Called with mu held.
func (l *Log) roll() error {
	old := l.segs[len(l.segs)-1]
	if err := old.f.Sync(); err != nil {
		l.failed = fmt.Errorf("%w: sync %s: %v", ErrFailed, old.path(logSuffix), err)
		return l.failed
	}
	if err := old.writeIndexFiles(""); err != nil {
		return err
	}
	s, err := createSegment(l.fs, l.dir, l.next, l.cfg.Now())
	if err != nil {
		return err
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		s.release()
		_ = l.fs.Remove(s.path(logSuffix))
		return fmt.Errorf("log: sync %s: %w", l.dir, err)
	}
	l.segs = append(l.segs, s)
	l.durable = max(l.durable, l.next)
	l.publish(old, old.size, l.next)
	if err := l.writeRecoveryPoint(s.base); err != nil {
		// The log stays correct; only the next recovery scans more.
		l.cfg.Logger.Warn("could not write recovery point", "dir", l.dir, "err", err)
	}
	return nil
}

// publish makes data up to offset next (position size in s) visible to
// readers and wakes those waiting. Called with mu held.
func (l *Log) publish(s *segment, size, next int64) {
	if size > s.visible {
		s.visible = size
	}
	if next > l.hw {
		l.hw = next
		l.wakeWaiters()
	}
}

// Close syncs the log, writes the active segment's indexes and a
// clean-shutdown marker so the next Open need not re-validate, and closes
// the files. Readers holding slices keep them until they release them.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.wakeWaiters()
	l.mu.Unlock()
	close(l.stopInterval)
	<-l.intervalDone
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.closeSegments()
	if l.failed != nil {
		return l.failed
	}
	active := l.segs[len(l.segs)-1]
	if err := active.f.Sync(); err != nil {
		return fmt.Errorf("log: sync %s: %w", active.path(logSuffix), err)
	}
	if err := active.writeIndexFiles(""); err != nil {
		return err
	}
	if err := writeFileSync(l.fs, filepath.Join(l.dir, cleanShutdownFile), nil); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

func (l *Log) closeSegments() {
	for _, s := range l.segs {
		s.release()
	}
	l.segs = nil
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// Offsets returns the log start offset, the high watermark (what readers can
// see) and the log end offset (what has been written).
func (l *Log) Offsets() (start, highWatermark, end int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segs) == 0 {
		return 0, l.hw, l.next
	}
	return l.segs[0].base, l.hw, l.next
}

// SetConfig replaces the configuration (for example after Kafka's
// IncrementalAlterConfigs). The sync policy cannot change while open.
func (l *Log) SetConfig(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg.Sync != l.cfg.Sync {
		return fmt.Errorf("%w: sync policy cannot change on an open log", ErrConfig)
	}
	l.cfg = cfg
	return nil
}

// Size returns the bytes stored in all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Stats are counters for metrics and benchmarks.
type Stats struct {
	// Fsyncs is how many fsyncs covered appended data (group commit makes
	// this smaller than the number of appends).
	Fsyncs int64
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats { return Stats{Fsyncs: l.fsyncs.Load()} }
