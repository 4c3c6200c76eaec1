package log

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// File name suffixes; part of the on-disk format (see doc.go).
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	cleanedSuffix   = ".cleaned"
	swapSuffix      = ".swap"
)

// segmentName returns the file name of a segment's file: its base offset in
// 20 zero-padded digits followed by suffix, as Kafka names them.
func segmentName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// parseSegmentName returns the base offset of a "<20 digits><suffix>" name.
func parseSegmentName(name, suffix string) (int64, bool) {
	digits, ok := strings.CutSuffix(name, suffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(digits, 10, 64)
	return base, err == nil && base >= 0
}

// segment is one .log file with its in-memory index. All fields but refs
// are guarded by the owning Log's mutex; the file's bytes below size are
// immutable once written, so readers use them without the lock.
type segment struct {
	fs   vfs.FS
	dir  string
	base int64
	f    vfs.File

	size    int64 // bytes written
	visible int64 // bytes readers may see (up to the high watermark)
	next    int64 // offset after the last batch; base when empty
	maxTs   int64 // largest batch max timestamp; -1 when empty
	idx     segmentIndex
	// sinceIndex counts bytes appended since the last index entry.
	sinceIndex int
	created    time.Time
	// writtenBack is where the file's data stops having been handed to
	// the disk's writeback (see startWriteback); a segment loaded from
	// disk starts at its size.
	writtenBack int64

	// refs counts the log's own reference plus readers and syncers holding
	// the file; the file is closed when it drops to zero. Removing a
	// segment unlinks its files at once: open handles keep working.
	refs atomic.Int32
}

func (s *segment) path(suffix string) string {
	return filepath.Join(s.dir, segmentName(s.base, suffix))
}

func newSegment(fs vfs.FS, dir string, base int64, f vfs.File, now time.Time) *segment {
	s := &segment{fs: fs, dir: dir, base: base, f: f, next: base, maxTs: -1, created: now}
	s.refs.Store(1)
	return s
}

// createSegment creates an empty segment file. The caller syncs the
// directory so that the new entry is durable.
func createSegment(fs vfs.FS, dir string, base int64, now time.Time) (*segment, error) {
	name := filepath.Join(dir, segmentName(base, logSuffix))
	f, err := fs.Create(name)
	if err != nil {
		return nil, fmt.Errorf("log: create segment %s: %w", name, err)
	}
	return newSegment(fs, dir, base, f, now), nil
}

func (s *segment) acquire() { s.refs.Add(1) }

func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		_ = s.f.Close()
	}
}

// append writes encoded, already validated batches at the end of the file.
// hdrs describe the batches in order. On a failed or short write the file
// is cut back to its previous size, so nothing partial stays.
func (s *segment) append(data []byte, hdrs []batch.Header, indexInterval int) error {
	n, err := s.f.WriteAt(data, s.size)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		werr := fmt.Errorf("log: write %d bytes to %s at %d: %w", len(data), s.path(logSuffix), s.size, err)
		if terr := s.f.Truncate(s.size); terr != nil {
			return errors.Join(werr, fmt.Errorf("%w: truncate after failed write: %v", ErrFailed, terr))
		}
		return werr
	}
	pos := s.size
	for _, h := range hdrs {
		s.indexBatch(h, pos, indexInterval)
		pos += int64(h.Size())
	}
	s.size = pos
	s.startWriteback()
	return nil
}

// writebackBytes is how much newly appended data a segment lets collect
// before it starts that data's writeback (RocksDB's bytes_per_sync).
const writebackBytes = 1 << 20

// startWriteback starts writing the data appended since the last call back
// to the disk, once there is writebackBytes of it, if the file can
// (vfs.WritebackStarter). The fsync that makes it durable later then waits
// for less: an fsync holds a Go processor for as long as it takes, and one
// finding 50 ms of a fast producer's data still dirty took several
// milliseconds. A failure only loses that head start, so it is ignored;
// the fsync reports what matters.
func (s *segment) startWriteback() {
	if s.size-s.writtenBack < writebackBytes {
		return
	}
	if ws, ok := s.f.(vfs.WritebackStarter); ok {
		_ = ws.StartWriteback(s.writtenBack, s.size-s.writtenBack)
	}
	s.writtenBack = s.size
}

// indexBatch records a batch written at pos in the in-memory state.
func (s *segment) indexBatch(h batch.Header, pos int64, indexInterval int) {
	if s.sinceIndex >= indexInterval {
		s.idx.add(uint32(h.BaseOffset-s.base), uint32(pos), s.maxTs)
		s.sinceIndex = 0
	}
	s.sinceIndex += h.Size()
	s.next = h.LastOffset() + 1
	if h.MaxTimestamp > s.maxTs {
		s.maxTs = h.MaxTimestamp
	}
}

// fits reports whether a further n bytes ending at offset last can go into
// this segment without breaking the 32-bit positions and relative offsets
// of the index.
func (s *segment) fits(n int, last int64, maxBytes int64) bool {
	if s.size == 0 {
		return true
	}
	return s.size+int64(n) <= maxBytes && last-s.base <= math.MaxUint32
}

// readHeader reads the fixed batch header at pos.
func (s *segment) readHeader(pos int64, buf []byte) (batch.Header, error) {
	buf = buf[:batch.HeaderSize]
	if _, err := s.f.ReadAt(buf, pos); err != nil {
		return batch.Header{}, fmt.Errorf("log: read batch header in %s at %d: %w", s.path(logSuffix), pos, err)
	}
	return batch.ParseHeader(buf)
}

// seek returns the position of the first batch whose last offset is at or
// after offset, scanning headers from the index entry below it and never
// past limit. It returns limit when no such batch is below limit.
func (s *segment) seek(offset int64, start, limit int64) (int64, error) {
	var buf [batch.HeaderSize]byte
	pos := start
	for pos < limit {
		h, err := s.readHeader(pos, buf[:])
		if err != nil {
			return 0, &CorruptionError{File: s.path(logSuffix), Position: pos, Err: err}
		}
		if h.LastOffset() >= offset {
			return pos, nil
		}
		pos += int64(h.Size())
	}
	return limit, nil
}

// span returns the end of the run of whole batches starting at pos that
// fits in maxBytes, but at least one batch, never past limit.
func (s *segment) span(pos, limit int64, maxBytes int) (int64, error) {
	if limit-pos <= int64(maxBytes) {
		return limit, nil
	}
	var buf [batch.HeaderSize]byte
	end := pos
	for end < limit {
		h, err := s.readHeader(end, buf[:])
		if err != nil {
			return 0, &CorruptionError{File: s.path(logSuffix), Position: end, Err: err}
		}
		next := end + int64(h.Size())
		if next > limit || (end > pos && next-pos > int64(maxBytes)) {
			break
		}
		end = next
	}
	return end, nil
}

// writeIndexFiles writes the in-memory indexes to .index and .timeindex
// (or their names with extra appended, during compaction) and syncs them.
func (s *segment) writeIndexFiles(extra string) error {
	if err := writeFileSync(s.fs, s.path(indexSuffix+extra), s.idx.encodeOffsets()); err != nil {
		return err
	}
	return writeFileSync(s.fs, s.path(timeIndexSuffix+extra), s.idx.encodeTimes())
}

func writeFileSync(fs vfs.FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return fmt.Errorf("log: create %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("log: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("log: sync %s: %w", name, err)
	}
	return f.Close()
}

func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// remove unlinks the segment's files; readers holding a reference keep
// reading the unlinked file until they release it.
func (s *segment) remove() error {
	var errs []error
	for _, suffix := range []string{logSuffix, indexSuffix, timeIndexSuffix} {
		if err := s.fs.Remove(s.path(suffix)); err != nil && !isNotExist(err) {
			errs = append(errs, fmt.Errorf("log: remove %s: %w", s.path(suffix), err))
		}
	}
	return errors.Join(errs...)
}
