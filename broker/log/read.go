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
	return l.read(offset, maxBytes, false)
}

// read is Read up to the high watermark or, when written is set, up to
// the end of what is written, durable or not (HighWatermark is then that
// end).
func (l *Log) read(offset int64, maxBytes int, written bool) (ReadResult, error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ReadResult{}, ErrClosed
	}
	end := l.hw
	if written {
		end = l.next
	}
	res := ReadResult{LogStartOffset: l.segs[0].base, HighWatermark: end}
	if offset < res.LogStartOffset || offset > end {
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
	for ; i < len(l.segs) && offset < end; i++ {
		s := l.segs[i]
		start := int64(0)
		if offset > s.base {
			start = s.idx.position(uint32(offset - s.base))
		}
		limit := s.visible
		if written {
			limit = s.size
		}
		s.acquire()
		cands = append(cands, candidate{s, start, limit})
		if offset < s.next && limit > 0 {
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
	return l.readBatches(offset, maxBytes, dst, false)
}

// ReadWritten is ReadBatches up to the end of what is written rather than
// the high watermark: under SyncOnAck it also returns batches not fsynced
// yet, which a machine crash can still take away. It is for in-process
// readers that make sure of durability themselves before they act on what
// they read for good: AwaitDurable(offset) before committing a position
// (the stream engine, reading its own repartition topics).
func (l *Log) ReadWritten(offset int64, maxBytes int, dst []byte) ([]byte, ReadResult, error) {
	return l.readBatches(offset, maxBytes, dst, true)
}

func (l *Log) readBatches(offset int64, maxBytes int, dst []byte, written bool) ([]byte, ReadResult, error) {
	res, err := l.read(offset, maxBytes, written)
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
	// Counted before looking at the log: a write the look misses finds the
	// count raised and is synced at once (syncOnKick); one it sees
	// unsynced is synced at once through readerWaiting.
	l.durableWaiters.Add(1)
	defer l.durableWaiters.Add(-1)
	for {
		l.mu.RLock()
		hw, next, closed, ch := l.hw, l.next, l.closed, l.notify
		l.mu.RUnlock()
		if hw > offset {
			return nil
		}
		if closed {
			return ErrClosed
		}
		if next > hw {
			select {
			case l.readerWaiting <- struct{}{}:
			default: // already signalled, or not SyncOnAck (nil channel)
			}
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitForWritten is WaitFor for ReadWritten: it returns once a batch at or
// after offset is written, durable or not.
func (l *Log) WaitForWritten(ctx context.Context, offset int64) error {
	for {
		l.mu.Lock()
		next, closed := l.next, l.closed
		// Write wakes written-waiters only when one has asked, so that
		// appends nobody waits for cost no channel.
		l.writeWaiters = true
		ch := l.written
		l.mu.Unlock()
		if next > offset {
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
