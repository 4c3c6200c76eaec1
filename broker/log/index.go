package log

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Index entry sizes on disk; part of the format (see doc.go).
const (
	offsetEntrySize = 8  // relative offset uint32, file position uint32
	timeEntrySize   = 12 // timestamp int64, relative offset uint32
)

type offsetEntry struct {
	rel uint32 // offset - segment base offset, of a batch's base offset
	pos uint32 // file position of that batch
}

// timeEntry says that every batch before relative offset rel has a max
// timestamp below or equal to ts, so a search for a timestamp greater than
// ts can start at rel.
type timeEntry struct {
	ts  int64
	rel uint32
}

// segmentIndex is a segment's sparse offset and time index, held in memory
// and written whole to the .index and .timeindex files when the segment is
// sealed or the log closes cleanly. Indexes are derivable from the .log, so
// recovery rebuilds them rather than trusting unsynced index files.
type segmentIndex struct {
	offsets []offsetEntry
	times   []timeEntry
}

// position returns the file position to start scanning for offset rel: the
// position of the last indexed batch at or before it, or 0.
func (x *segmentIndex) position(rel uint32) int64 {
	i := sort.Search(len(x.offsets), func(i int) bool { return x.offsets[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(x.offsets[i-1].pos)
}

// timeStart returns the relative offset from which to scan for the first
// batch with max timestamp >= ts.
func (x *segmentIndex) timeStart(ts int64) (rel uint32, ok bool) {
	i := sort.Search(len(x.times), func(i int) bool { return x.times[i].ts >= ts })
	if i == 0 {
		return 0, false
	}
	return x.times[i-1].rel, true
}

func (x *segmentIndex) add(rel uint32, pos uint32, maxTsBefore int64) {
	x.offsets = append(x.offsets, offsetEntry{rel: rel, pos: pos})
	if n := len(x.times); maxTsBefore >= 0 && (n == 0 || maxTsBefore > x.times[n-1].ts) {
		x.times = append(x.times, timeEntry{ts: maxTsBefore, rel: rel})
	}
}

func (x *segmentIndex) encodeOffsets() []byte {
	b := make([]byte, len(x.offsets)*offsetEntrySize)
	for i, e := range x.offsets {
		binary.BigEndian.PutUint32(b[i*8:], e.rel)
		binary.BigEndian.PutUint32(b[i*8+4:], e.pos)
	}
	return b
}

func (x *segmentIndex) encodeTimes() []byte {
	b := make([]byte, len(x.times)*timeEntrySize)
	for i, e := range x.times {
		binary.BigEndian.PutUint64(b[i*12:], uint64(e.ts))
		binary.BigEndian.PutUint32(b[i*12+8:], e.rel)
	}
	return b
}

// decodeIndex parses index files and checks that entries are strictly
// increasing and point inside a log of logSize bytes; any inconsistency
// means the files cannot be trusted and the caller rebuilds them.
func decodeIndex(offsets, times []byte, logSize int64) (segmentIndex, error) {
	var x segmentIndex
	if len(offsets)%offsetEntrySize != 0 || len(times)%timeEntrySize != 0 {
		return x, fmt.Errorf("index sizes %d and %d are not whole entries", len(offsets), len(times))
	}
	x.offsets = make([]offsetEntry, len(offsets)/offsetEntrySize)
	for i := range x.offsets {
		e := offsetEntry{
			rel: binary.BigEndian.Uint32(offsets[i*8:]),
			pos: binary.BigEndian.Uint32(offsets[i*8+4:]),
		}
		if int64(e.pos) >= logSize || (i > 0 && (e.rel <= x.offsets[i-1].rel || e.pos <= x.offsets[i-1].pos)) {
			return x, fmt.Errorf("offset index entry %d (%d@%d) out of order or past the log's %d bytes", i, e.rel, e.pos, logSize)
		}
		x.offsets[i] = e
	}
	x.times = make([]timeEntry, len(times)/timeEntrySize)
	for i := range x.times {
		e := timeEntry{
			ts:  int64(binary.BigEndian.Uint64(times[i*12:])),
			rel: binary.BigEndian.Uint32(times[i*12+8:]),
		}
		if i > 0 && (e.ts <= x.times[i-1].ts || e.rel < x.times[i-1].rel) {
			return x, fmt.Errorf("time index entry %d out of order", i)
		}
		x.times[i] = e
	}
	return x, nil
}
