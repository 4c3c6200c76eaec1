package batch

import (
	"fmt"
	"slices"
)

// Rebuild encodes a batch holding only recs out of the batch whose header is
// h, for log compaction: base offset, last offset delta, partition leader
// epoch, producer fields, attributes and first timestamp stay as in h, so
// the batch still covers the same offsets and its producer sequence range;
// each record keeps its own offset (r.Offset) and timestamp. The record
// count, max timestamp (unless h uses log-append time), length and CRC are
// recomputed. Offsets must increase and lie within h's range; the result is
// appended to dst.
func Rebuild(h Header, recs []Record, dst []byte) ([]byte, error) {
	b := &Builder{opts: BuilderOptions{Codec: h.Codec()}}
	maxTS := int64(-1)
	prev := int64(-1)
	for i := range recs {
		r := &recs[i]
		delta := r.Offset - h.BaseOffset
		if delta < 0 || delta > int64(h.LastOffsetDelta) || delta <= prev {
			return dst, fmt.Errorf("%w: record offset %d outside batch %d..%d or not increasing", ErrBadCount, r.Offset, h.BaseOffset, h.LastOffset())
		}
		prev = delta
		tsDelta := r.Timestamp - h.FirstTimestamp
		body := recordBodySize(r, tsDelta, int32(delta))
		b.buf = appendRecord(b.headerRoom(), r, body, tsDelta, int32(delta))
		maxTS = max(maxTS, r.Timestamp)
	}
	section := b.section()
	if h.Codec() != None {
		var err error
		if section, err = b.compress(); err != nil {
			return dst, err
		}
	}
	if len(section) > maxRecordsSection {
		return dst, fmt.Errorf("%w: rebuilt records section of %d bytes", ErrBadLength, len(section))
	}
	out := h
	out.RecordCount = int32(len(recs))
	out.Length = int32(minLength + len(section))
	if !h.LogAppendTime() {
		out.MaxTimestamp = maxTS
	}
	start := len(dst)
	dst = slices.Grow(dst, HeaderSize+len(section))
	dst = dst[:start+HeaderSize]
	dst = append(dst, section...)
	putHeader(dst[start:], &out)
	putCRC(dst[start:], Checksum(dst[start:]))
	return dst, nil
}
