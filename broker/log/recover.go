package log

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/broker/batch"
)

// Names of the per-log checkpoint files; part of the format (see doc.go).
const (
	cleanShutdownFile = ".clean-shutdown"
	recoveryPointFile = "recovery-point"
	tmpSuffix         = ".tmp"
)

func isNotExist(err error) bool { return errors.Is(err, iofs.ErrNotExist) }

// finishInterruptedWork completes or undoes what a crash interrupted:
// compaction output not yet committed (.cleaned, or .swap without the
// .log.swap that commits it) is deleted; a committed swap (.log.swap
// present) is renamed into place; temporary checkpoint files go.
func (l *Log) finishInterruptedWork(names []string) ([]string, error) {
	committed := map[int64]bool{}
	for _, n := range names {
		if base, ok := parseSegmentName(n, logSuffix+swapSuffix); ok {
			committed[base] = true
		}
	}
	changed := false
	for _, n := range names {
		path := filepath.Join(l.dir, n)
		switch {
		case strings.HasSuffix(n, cleanedSuffix), strings.HasSuffix(n, tmpSuffix):
			if err := l.fs.Remove(path); err != nil {
				return nil, fmt.Errorf("log: remove leftover %s: %w", path, err)
			}
			changed = true
		case strings.HasSuffix(n, swapSuffix):
			base, ok := parseSegmentName(strings.SplitN(n, ".", 2)[0]+logSuffix, logSuffix)
			if !ok || !committed[base] {
				if err := l.fs.Remove(path); err != nil {
					return nil, fmt.Errorf("log: remove uncommitted %s: %w", path, err)
				}
				changed = true
			}
		}
	}
	bases := make([]int64, 0, len(committed))
	for base := range committed {
		bases = append(bases, base)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	for _, base := range bases {
		// The swap is committed: put the cleaned log in place. Which index
		// renames reached the disk is unknown, so drop the indexes and let
		// loading rebuild them from the log.
		from := filepath.Join(l.dir, segmentName(base, logSuffix+swapSuffix))
		if err := l.fs.Rename(from, filepath.Join(l.dir, segmentName(base, logSuffix))); err != nil {
			return nil, fmt.Errorf("log: complete compaction swap %s: %w", from, err)
		}
		for _, suffix := range []string{indexSuffix, timeIndexSuffix, indexSuffix + swapSuffix, timeIndexSuffix + swapSuffix} {
			path := filepath.Join(l.dir, segmentName(base, suffix))
			if err := l.fs.Remove(path); err != nil && !isNotExist(err) {
				return nil, fmt.Errorf("log: remove %s: %w", path, err)
			}
		}
		l.cfg.Logger.Info("completed interrupted compaction swap", "dir", l.dir, "segment", base)
		changed = true
	}
	if !changed {
		return names, nil
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return nil, fmt.Errorf("log: sync %s: %w", l.dir, err)
	}
	return l.fs.List(l.dir)
}

// readRecoveryPoint returns the offset below which every segment was synced
// with its indexes, or 0 when the file is missing or unreadable.
func (l *Log) readRecoveryPoint() int64 {
	b, err := readFile(l.fs, filepath.Join(l.dir, recoveryPointFile))
	if err != nil {
		return 0
	}
	rp, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || rp < 0 {
		l.cfg.Logger.Warn("ignoring unreadable recovery point", "dir", l.dir, "content", string(b))
		return 0
	}
	return rp
}

// writeRecoveryPoint durably records that everything below rp is synced.
// It writes a temporary file and renames it, so the file is never torn.
func (l *Log) writeRecoveryPoint(rp int64) error {
	path := filepath.Join(l.dir, recoveryPointFile)
	if err := writeFileSync(l.fs, path+tmpSuffix, []byte(strconv.FormatInt(rp, 10)+"\n")); err != nil {
		return err
	}
	if err := l.fs.Rename(path+tmpSuffix, path); err != nil {
		return fmt.Errorf("log: rename %s: %w", path, err)
	}
	return l.fs.SyncDir(l.dir)
}

// loadTrusted opens a segment that was synced with its indexes before the
// stop, loading the index files instead of validating every batch. Index
// files that are missing or inconsistent are rebuilt from the log.
func (l *Log) loadTrusted(s *segment) error {
	info, err := s.f.Stat()
	if err != nil {
		return fmt.Errorf("log: stat %s: %w", s.path(logSuffix), err)
	}
	s.size = info.Size()
	s.writtenBack = s.size // already on disk, or the kernel's to write
	offsets, err1 := readFile(l.fs, s.path(indexSuffix))
	times, err2 := readFile(l.fs, s.path(timeIndexSuffix))
	if err := errors.Join(err1, err2); err == nil {
		if idx, err := decodeIndex(offsets, times, s.size); err == nil {
			s.idx = idx
			return l.scanTail(s)
		} else {
			l.cfg.Logger.Warn("rebuilding inconsistent index", "segment", s.path(logSuffix), "err", err)
		}
	}
	_, err = l.scan(s, false)
	return err
}

// scanTail reads batch headers after the last index entry to learn the
// segment's next offset and max timestamp.
func (l *Log) scanTail(s *segment) error {
	var pos int64
	if n := len(s.idx.offsets); n > 0 {
		pos = int64(s.idx.offsets[n-1].pos)
		if m := len(s.idx.times); m > 0 {
			s.maxTs = s.idx.times[m-1].ts
			pos = min(pos, s.idx.position(s.idx.times[m-1].rel))
		}
	}
	var buf [batch.HeaderSize]byte
	for pos < s.size {
		h, err := s.readHeader(pos, buf[:])
		if err == nil && pos+int64(h.Size()) > s.size {
			err = batch.ErrTruncated
		}
		if err != nil {
			return &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		s.next = h.LastOffset() + 1
		s.maxTs = max(s.maxTs, h.MaxTimestamp)
		s.sinceIndex += h.Size()
		pos += int64(h.Size())
	}
	return nil
}

// scan validates every batch of a segment from the start, rebuilding its
// index. It returns the position of the first invalid batch and an error
// describing it, or the file size and nil. With truncate set, the segment
// is cut at that position (a torn tail after an unclean stop).
func (l *Log) scan(s *segment, truncate bool) (int64, error) {
	info, err := s.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("log: stat %s: %w", s.path(logSuffix), err)
	}
	fileSize := info.Size()
	s.size, s.next, s.maxTs, s.sinceIndex, s.idx = 0, s.base, -1, 0, segmentIndex{}
	store := make([]byte, 1<<20)
	var pos int64
	var bad error
	for bad == nil && pos < fileSize {
		window := store[:min(int64(len(store)), fileSize-pos)]
		if _, err := s.f.ReadAt(window, pos); err != nil && !errors.Is(err, io.EOF) {
			return pos, fmt.Errorf("log: read %s at %d: %w", s.path(logSuffix), pos, err)
		}
		var consumed int
		consumed, bad = l.scanWindow(s, window, pos, fileSize)
		if bad == nil && consumed == 0 {
			// One batch is larger than the window: grow it to fit.
			h, err := batch.ParseHeader(window)
			switch {
			case err != nil:
				bad = err
			case int64(h.Size()) > fileSize-pos:
				bad = fmt.Errorf("%w: batch of %d bytes at %d runs past the file's end", batch.ErrTruncated, h.Size(), pos)
			default:
				store = make([]byte, h.Size())
			}
		}
		pos += int64(consumed)
	}
	s.size = pos
	s.writtenBack = s.size // already on disk, or the kernel's to write
	if bad == nil {
		return pos, nil
	}
	if truncate {
		l.cfg.Logger.Warn("truncating log tail after unclean stop",
			"segment", s.path(logSuffix), "position", pos, "dropped_bytes", fileSize-pos, "reason", bad)
		if err := s.f.Truncate(pos); err != nil {
			return pos, fmt.Errorf("log: truncate %s at %d: %w", s.path(logSuffix), pos, err)
		}
		if err := s.f.Sync(); err != nil {
			return pos, fmt.Errorf("log: sync %s: %w", s.path(logSuffix), err)
		}
		return pos, nil
	}
	return pos, &CorruptionError{File: s.path(logSuffix), Position: pos, Err: bad}
}

// scanWindow validates the batches that lie whole in window (file bytes
// from pos), indexing them into s. It returns how many bytes it consumed and
// the reason the batch after them is invalid, if it is. A batch cut by the
// window's end is not an error unless the window reaches the file's end.
func (l *Log) scanWindow(s *segment, window []byte, pos, fileSize int64) (int, error) {
	consumed := 0
	for consumed < len(window) {
		b, _, err := batch.Next(window[consumed:])
		if errors.Is(err, batch.ErrTruncated) && pos+int64(len(window)) < fileSize {
			return consumed, nil
		}
		if err != nil {
			return consumed, err
		}
		h, err := batch.Validate(b, false)
		if err == nil && (h.BaseOffset < s.next || h.LastOffset() < h.BaseOffset) {
			err = fmt.Errorf("batch offsets %d..%d do not follow %d", h.BaseOffset, h.LastOffset(), s.next-1)
		}
		if err != nil {
			return consumed, err
		}
		s.indexBatch(h, pos+int64(consumed), l.cfg.IndexIntervalBytes)
		consumed += len(b)
	}
	return consumed, nil
}
