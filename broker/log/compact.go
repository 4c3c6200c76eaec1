package log

import (
	"fmt"
	"path/filepath"

	"github.com/eddy-streams/eddy/broker/batch"
)

// CompactStats tells what one compaction pass did.
type CompactStats struct {
	Segments       int // sealed segments examined
	Rewritten      int // segments replaced by a cleaned copy
	RecordsDropped int // superseded records and expired tombstones removed
	TombstonesKept int // tombstones still inside their retention
	BytesBefore    int64
	BytesAfter     int64
}

// Compact keeps only the latest record of each key in the sealed segments
// (never the active one), as Kafka's log cleaner does for
// cleanup.policy=compact. Offsets never change: kept records keep their
// offsets and batches keep their base and last offsets, so readers see gaps.
// A tombstone (a null value) is dropped once it is the key's latest record
// and its timestamp is older than Config.TombstoneRetention; records younger
// than Config.MinCompactionLag are left alone, and so is every segment after
// the first one holding such a record.
//
// Each cleaned segment replaces the original through a swap that survives a
// crash at any point: the new files are written as .cleaned and synced,
// renamed to .swap (the .log.swap rename commits the swap), then renamed
// over the originals. Open finishes or discards an interrupted swap.
//
// The key map is held in memory; its size grows with the number of
// distinct keys in the sealed segments.
func (l *Log) Compact() (CompactStats, error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	var st CompactStats
	l.mu.RLock()
	if err := l.usable(); err != nil {
		l.mu.RUnlock()
		return st, err
	}
	cfg := l.cfg
	var segs []*segment
	lagEdge := cfg.Now().Add(-cfg.MinCompactionLag).UnixMilli()
	for _, s := range l.segs[:len(l.segs)-1] {
		if !cfg.Compact || s.maxTs > lagEdge {
			break
		}
		s.acquire()
		segs = append(segs, s)
	}
	// Later records supersede earlier ones wherever they are, so the key map
	// also covers the segments that will not be rewritten, the active one
	// up to what readers can see.
	type scanned struct {
		seg   *segment
		limit int64
	}
	var mapped []scanned
	for _, s := range l.segs {
		s.acquire()
		mapped = append(mapped, scanned{s, s.visible})
	}
	l.mu.RUnlock()
	defer func() {
		for _, s := range segs {
			s.release()
		}
		for _, m := range mapped {
			m.seg.release()
		}
	}()
	if len(segs) == 0 {
		return st, nil
	}
	st.Segments = len(segs)
	latest := map[string]int64{}
	for _, m := range mapped {
		err := m.seg.forEachBatch(m.limit, func(pos int64, b []byte, h batch.Header) error {
			if h.Control() {
				return nil
			}
			it, err := batch.NewIterator(b)
			if err != nil {
				return err
			}
			for it.Next() {
				if r := it.Record(); r.Key != nil {
					latest[string(r.Key)] = r.Offset
				}
			}
			return it.Err()
		})
		if err != nil {
			return st, err
		}
	}
	tombstoneEdge := cfg.Now().Add(-cfg.TombstoneRetention).UnixMilli()
	for _, s := range segs {
		st.BytesBefore += s.size
		cleaned, err := l.clean(s, latest, tombstoneEdge, &st)
		if err != nil {
			return st, err
		}
		if cleaned == nil {
			st.BytesAfter += s.size
			continue
		}
		st.BytesAfter += cleaned.size
		st.Rewritten++
		if err := l.swapIn(s, cleaned); err != nil {
			cleaned.release()
			return st, err
		}
	}
	return st, nil
}

// forEachBatch calls fn with every batch of the segment, read sequentially.
// limit is the end of the bytes to read.
func (s *segment) forEachBatch(limit int64, fn func(pos int64, b []byte, h batch.Header) error) error {
	var hbuf [batch.HeaderSize]byte
	var data []byte
	for pos := int64(0); pos < limit; {
		h, err := s.readHeader(pos, hbuf[:])
		if err != nil {
			return &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		data = append(data[:0], make([]byte, h.Size())...)
		if _, err := s.f.ReadAt(data, pos); err != nil {
			return fmt.Errorf("log: read %s at %d: %w", s.path(logSuffix), pos, err)
		}
		if _, err := batch.Validate(data, false); err != nil {
			return &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		if err := fn(pos, data, h); err != nil {
			if _, ok := err.(*CorruptionError); ok {
				return err
			}
			return &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		pos += int64(h.Size())
	}
	return nil
}

// clean writes the segment's surviving records to <base>.log.cleaned and
// returns the new segment, or nil when nothing would be dropped.
func (l *Log) clean(s *segment, latest map[string]int64, tombstoneEdge int64, st *CompactStats) (*segment, error) {
	var out []byte
	var keep []batch.Record
	dropped := 0
	err := s.forEachBatch(s.size, func(pos int64, b []byte, h batch.Header) error {
		if h.Control() {
			out = append(out, b...)
			return nil
		}
		it, err := batch.NewIterator(b)
		if err != nil {
			return err
		}
		keep = keep[:0]
		n := 0
		for it.Next() {
			n++
			r := it.Record()
			if r.Key != nil && latest[string(r.Key)] != r.Offset {
				continue
			}
			if r.Key != nil && r.Value == nil {
				if r.Timestamp < tombstoneEdge {
					continue
				}
				st.TombstonesKept++
			}
			keep = append(keep, cloneRecord(r))
		}
		if err := it.Err(); err != nil {
			return err
		}
		dropped += n - len(keep)
		switch {
		case len(keep) == n:
			out = append(out, b...)
		case len(keep) > 0:
			out, err = batch.Rebuild(h, keep, out)
		}
		return err
	})
	if err != nil || dropped == 0 {
		return nil, err
	}
	st.RecordsDropped += dropped
	name := filepath.Join(l.dir, segmentName(s.base, logSuffix+cleanedSuffix))
	f, err := l.fs.Create(name)
	if err != nil {
		return nil, fmt.Errorf("log: create %s: %w", name, err)
	}
	c := newSegment(l.fs, l.dir, s.base, f, s.created)
	if err := c.appendAll(out, l.cfg.IndexIntervalBytes); err != nil {
		c.release()
		return nil, err
	}
	if err := c.f.Sync(); err != nil {
		c.release()
		return nil, fmt.Errorf("log: sync %s: %w", name, err)
	}
	if err := c.writeIndexFiles(cleanedSuffix); err != nil {
		c.release()
		return nil, err
	}
	// An emptied segment keeps its place so offsets stay where they were.
	c.next = max(c.next, s.base)
	return c, nil
}

// appendAll writes a buffer of valid batches with their offsets as they are.
func (s *segment) appendAll(data []byte, indexInterval int) error {
	var hdrs []batch.Header
	for rest := data; len(rest) > 0; {
		b, r, err := batch.Next(rest)
		if err != nil {
			return fmt.Errorf("log: cleaned output: %w", err)
		}
		h, err := batch.ParseHeader(b)
		if err != nil {
			return fmt.Errorf("log: cleaned output: %w", err)
		}
		hdrs = append(hdrs, h)
		rest = r
	}
	return s.append(data, hdrs, indexInterval)
}

func cloneRecord(r batch.Record) batch.Record {
	c := r
	c.Key = cloneBytes(r.Key)
	c.Value = cloneBytes(r.Value)
	c.Headers = make([]batch.RecordHeader, len(r.Headers))
	for i, h := range r.Headers {
		c.Headers[i] = batch.RecordHeader{Key: h.Key, Value: cloneBytes(h.Value)}
	}
	return c
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// swapIn commits the cleaned copy of old and puts it in the segment list.
func (l *Log) swapIn(old, cleaned *segment) error {
	order := []string{indexSuffix, timeIndexSuffix, logSuffix}
	for _, suffix := range order {
		from := filepath.Join(l.dir, segmentName(old.base, suffix+cleanedSuffix))
		to := filepath.Join(l.dir, segmentName(old.base, suffix+swapSuffix))
		if err := l.fs.Rename(from, to); err != nil {
			return fmt.Errorf("log: rename %s: %w", from, err)
		}
	}
	// The .log.swap entry is the commit point of the swap.
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("log: sync %s: %w", l.dir, err)
	}
	for _, suffix := range order {
		from := filepath.Join(l.dir, segmentName(old.base, suffix+swapSuffix))
		if err := l.fs.Rename(from, old.path(suffix)); err != nil {
			l.mu.Lock()
			l.failed = fmt.Errorf("%w: finish compaction swap %s: %v", ErrFailed, from, err)
			l.mu.Unlock()
			return l.failed
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("log: sync %s: %w", l.dir, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.segs {
		if s == old {
			cleaned.visible = cleaned.size
			l.segs[i] = cleaned
			old.release()
			return nil
		}
	}
	// The segment left the list meanwhile (it cannot: maintMu is held).
	cleaned.release()
	return fmt.Errorf("log: segment %d vanished during compaction", old.base)
}
