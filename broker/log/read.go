package log

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// Slice is a run of whole batches in one segment file, as stored. It pins
// the file: the caller must Release it, after which its file must not be
// used. A Slice of length zero holds nothing and need not be released.
type Slice struct {
	seg *segment
	// Position and Length locate the bytes in File.
	Position int64
	Length   int
}

// File returns the segment file holding the bytes, for zero-copy sends
// (the real filesystem's files implement vfs.FdFile). Read it only with
// ReadAt: its seek position is shared.
func (s Slice) File() vfs.File {
	if s.seg == nil {
		return nil
	}
	return s.seg.f
}

// FileName returns the path of the segment file, for error messages.
func (s Slice) FileName() string {
	if s.seg == nil {
		return ""
	}
	return s.seg.path(logSuffix)
}

// AppendTo appends the slice's bytes to dst.
func (s Slice) AppendTo(dst []byte) ([]byte, error) {
	if s.Length == 0 {
		return dst, nil
	}
	n := len(dst)
	if cap(dst)-n >= int(s.Length) {
		dst = dst[:n+int(s.Length)] // ReadAt overwrites it all: no zeroing
	} else {
		dst = append(dst, make([]byte, s.Length)...)
	}
	if _, err := s.seg.f.ReadAt(dst[n:], s.Position); err != nil && err != io.EOF {
		return dst[:n], fmt.Errorf("log: read %d bytes of %s at %d: %w", s.Length, s.FileName(), s.Position, err)
	}
	return dst, nil
}

// Release unpins the file.
func (s Slice) Release() {
	if s.seg != nil {
		s.seg.release()
	}
}

// ReadResult is what Read returns: the batches plus the log's bounds at the
// time of the read.
type ReadResult struct {
	Slice
	LogStartOffset int64
	HighWatermark  int64
}

// Read returns whole batches starting with the one that contains offset, up
// to maxBytes (but at least one batch, so a reader always progresses), all
// from one segment and all below the high watermark. Reading at the high
// watermark returns an empty slice; outside [log start, high watermark] it
// returns ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int) (ReadResult, error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ReadResult{}, ErrClosed
	}
	res := ReadResult{LogStartOffset: l.segs[0].base, HighWatermark: l.hw}
	if offset < res.LogStartOffset || offset > l.hw {
		l.mu.RUnlock()
		return res, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, res.LogStartOffset, res.HighWatermark)
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	type candidate struct {
		seg          *segment
		start, limit int64
	}
	// Compaction can leave a gap at a segment's end, so the batch holding
	// offset may be in a later segment: pin each candidate in turn.
	var cands []candidate
	for ; i < len(l.segs) && offset < l.hw; i++ {
		s := l.segs[i]
		start := int64(0)
		if offset > s.base {
			start = s.idx.position(uint32(offset - s.base))
		}
		s.acquire()
		cands = append(cands, candidate{s, start, s.visible})
		if offset < s.next && s.visible > 0 {
			break // this segment holds a batch ending at or after offset
		}
	}
	l.mu.RUnlock()
	var (
		found Slice
		err   error
	)
	for _, c := range cands {
		if found.seg != nil || err != nil {
			c.seg.release()
			continue
		}
		var pos, end int64
		if pos, err = c.seg.seek(offset, c.start, c.limit); err == nil && pos < c.limit {
			if end, err = c.seg.span(pos, c.limit, maxBytes); err == nil {
				found = Slice{seg: c.seg, Position: pos, Length: int(end - pos)}
				continue
			}
		}
		c.seg.release()
	}
	res.Slice = found
	return res, err
}

// ReadBatches is Read for in-process consumers: it copies the batches into
// dst (appending) and checks each one's CRC, so corruption on disk is
// reported as a *CorruptionError naming the file and position instead of
// being served.
func (l *Log) ReadBatches(offset int64, maxBytes int, dst []byte) ([]byte, ReadResult, error) {
	res, err := l.Read(offset, maxBytes)
	if err != nil {
		return dst, res, err
	}
	defer res.Release()
	start := len(dst)
	if dst, err = res.AppendTo(dst); err != nil {
		return dst[:start], res, err
	}
	for b, pos := dst[start:], res.Position; len(b) > 0; {
		one, rest, err := batch.Next(b)
		if err == nil {
			_, err = batch.Validate(one, false)
		}
		if err != nil {
			return dst[:start], res, &CorruptionError{File: res.FileName(), Position: pos, Err: err}
		}
		pos += int64(len(one))
		b = rest
	}
	res.Slice = Slice{Position: res.Position, Length: res.Length}
	return dst, res, nil
}

// WaitFor blocks until the high watermark passes offset (data at offset is
// readable), the log closes, or ctx ends. It lets a fetch long-poll without
// polling.
func (l *Log) WaitFor(ctx context.Context, offset int64) error {
	for {
		l.mu.RLock()
		hw, closed, ch := l.hw, l.closed, l.notify
		l.mu.RUnlock()
		if hw > offset {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changed returns a channel closed at the next change of the high watermark
// (or on close), for callers that wait on several logs at once.
func (l *Log) Changed() <-chan struct{} {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.notify
}

// ScanHeaders calls fn with the header of every visible batch from the
// start of the log, in offset order, reading only headers. The broker uses
// it to rebuild producer sequence state at startup.
func (l *Log) ScanHeaders(fn func(h batch.Header) error) error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	type span struct {
		seg   *segment
		limit int64
	}
	spans := make([]span, 0, len(l.segs))
	for _, s := range l.segs {
		s.acquire()
		spans = append(spans, span{s, s.visible})
	}
	l.mu.RUnlock()
	defer func() {
		for _, sp := range spans {
			sp.seg.release()
		}
	}()
	var buf [batch.HeaderSize]byte
	for _, sp := range spans {
		for pos := int64(0); pos < sp.limit; {
			h, err := sp.seg.readHeader(pos, buf[:])
			if err != nil {
				return &CorruptionError{File: sp.seg.path(logSuffix), Position: pos, Err: err}
			}
			if err := fn(h); err != nil {
				return err
			}
			pos += int64(h.Size())
		}
	}
	return nil
}
