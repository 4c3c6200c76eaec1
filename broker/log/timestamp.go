package log

import (
	"fmt"

	"github.com/eddy-streams/eddy/broker/batch"
)

// OffsetForTimestamp returns the offset and timestamp of the first record
// (in offset order) whose timestamp is at or after ts, as Kafka's ListOffsets
// does; ok is false when no visible record is that recent.
func (l *Log) OffsetForTimestamp(ts int64) (offset, timestamp int64, ok bool, err error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return 0, 0, false, ErrClosed
	}
	type candidate struct {
		seg          *segment
		start, limit int64
	}
	var cands []candidate
	for _, s := range l.segs {
		if s.maxTs < ts || s.visible == 0 {
			continue
		}
		start := int64(0)
		if rel, found := s.idx.timeStart(ts); found {
			start = s.idx.position(rel)
		}
		s.acquire()
		cands = append(cands, candidate{s, start, s.visible})
	}
	l.mu.RUnlock()
	defer func() {
		for _, c := range cands {
			c.seg.release()
		}
	}()
	for _, c := range cands {
		offset, timestamp, ok, err = c.seg.findTimestamp(ts, c.start, c.limit)
		if ok || err != nil {
			return offset, timestamp, ok, err
		}
	}
	return 0, 0, false, nil
}

// findTimestamp scans batches from start for the first record with a
// timestamp at or after ts.
func (s *segment) findTimestamp(ts int64, start, limit int64) (int64, int64, bool, error) {
	var hbuf [batch.HeaderSize]byte
	var data []byte
	for pos := start; pos < limit; {
		h, err := s.readHeader(pos, hbuf[:])
		if err != nil {
			return 0, 0, false, &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		if h.MaxTimestamp < ts {
			pos += int64(h.Size())
			continue
		}
		data = append(data[:0], make([]byte, h.Size())...)
		if _, err := s.f.ReadAt(data, pos); err != nil {
			return 0, 0, false, fmt.Errorf("log: read %s at %d: %w", s.path(logSuffix), pos, err)
		}
		it, err := batch.NewIterator(data)
		if err != nil {
			return 0, 0, false, &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		for it.Next() {
			if r := it.Record(); r.Timestamp >= ts {
				return r.Offset, r.Timestamp, true, nil
			}
		}
		if err := it.Err(); err != nil {
			return 0, 0, false, &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		pos += int64(h.Size())
	}
	return 0, 0, false, nil
}
