package batch

import (
	"fmt"
)

// Iterator walks the records of one stored batch, decompressing the records
// section once if needed. It checks the records against the header as it
// goes: each record must decode exactly within its length, offset deltas
// must increase and stay within lastOffsetDelta, and the section must hold
// exactly recordCount records. It does not check the CRC ([Validate] does).
//
// An Iterator is not safe for concurrent use. [Iterator.Reset] points it at
// another batch, keeping its decompression buffer, codec state and header
// slice, so a reused Iterator allocates nothing per batch in steady state.
type Iterator struct {
	h       Header
	section []byte // records section: the batch's own bytes, or decompressed
	raw     []byte // the compressed records section still to decompress
	pending bool   // raw has not been decompressed yet
	pos     int    // read position in section
	index   int    // records returned so far
	prevOff int32  // offset delta of the last record returned, -1 before the first
	rec     Record
	err     error

	limit     int
	decomp    decompressor
	decoded   []byte // decompression buffer, reused across batches
	headers   []RecordHeader
	keyByPosn []string // header keys seen at each header position, to reuse their strings
}

// NewIterator parses the header of batch b and returns an iterator over its
// records. b must be exactly one batch (as from [Next]): a shorter buffer
// fails with ErrTruncated, a longer one with ErrBadLength; the magic must be
// 2 and the codec known. Decompression happens on the first call to Next.
func NewIterator(b []byte) (*Iterator, error) {
	it := &Iterator{limit: MaxDecompressedSize}
	if err := it.Reset(b); err != nil {
		return nil, err
	}
	return it, nil
}

// Reset points the iterator at batch b, with NewIterator's checks, keeping
// its buffers. On error the iterator yields no records.
func (it *Iterator) Reset(b []byte) error {
	it.h, it.section, it.raw, it.pending = Header{}, nil, nil, false
	it.pos, it.index, it.prevOff, it.rec = 0, 0, -1, Record{}
	it.err = nil
	if it.limit == 0 {
		it.limit = MaxDecompressedSize
	}
	h, err := ParseHeader(b)
	if err == nil {
		err = checkShape(&h, len(b))
	}
	if err != nil {
		it.err = err
		return err
	}
	it.h = h
	section := b[HeaderSize:h.Size()]
	if h.Codec() == None || (len(section) == 0 && h.RecordCount == 0) {
		it.section = section
	} else {
		it.raw, it.pending = section, true
	}
	return nil
}

// checkShape checks what the iterator needs from a header to walk a batch of
// n bytes safely.
func checkShape(h *Header, n int) error {
	if h.Length < minLength {
		return fieldError(ErrBadLength, "batchLength", int64(h.Length), fmt.Sprintf(">= %d", minLength))
	}
	if size := h.Size(); size > n {
		return fieldError(ErrTruncated, "bytes", int64(n), fmt.Sprintf("%d (12 + batchLength)", size))
	} else if size < n {
		return fieldError(ErrBadLength, "batchLength", int64(h.Length), fmt.Sprintf("%d (buffer size - 12)", n-lengthPrefix))
	}
	if h.Magic != Magic {
		return fieldError(ErrBadMagic, "magic", int64(h.Magic), "2")
	}
	if c := h.Codec(); !c.Known() {
		return fieldError(ErrBadCodec, "attributes codec", int64(c), "0-4")
	}
	if h.RecordCount < 0 {
		return fieldError(ErrBadCount, "recordCount", int64(h.RecordCount), ">= 0")
	}
	return nil
}

// SetDecompressLimit bounds how large a records section may decompress to
// (default [MaxDecompressedSize]); a larger one fails with ErrBadRecord
// rather than allocating. It applies from the next decompression on; n <= 0
// restores the default.
func (it *Iterator) SetDecompressLimit(n int) {
	if n <= 0 {
		n = MaxDecompressedSize
	}
	it.limit = n
}

// Header is the batch's parsed header.
func (it *Iterator) Header() Header { return it.h }

// Record is the record Next moved to. Its Headers slice is reused by the
// next call to Next; Key, Value and header values stay valid as long as the
// batch bytes (uncompressed) or until the next Reset (compressed).
func (it *Iterator) Record() Record { return it.rec }

// Err is the error that stopped iteration, or nil if every record decoded.
// Decoding failures are [*RecordError]s matching ErrBadRecord.
func (it *Iterator) Err() error { return it.err }

// Next moves to the next record, reporting false at the end of the batch or
// on error (see Err).
func (it *Iterator) Next() bool {
	if it.err != nil {
		return false
	}
	if it.pending {
		it.pending = false
		out, err := it.decomp.decompress(it.decoded, it.raw, it.h.Codec(), it.limit)
		if err != nil {
			it.err = &RecordError{Index: -1, Reason: "decompressing " + it.h.Codec().String(), Cause: err}
			return false
		}
		it.decoded, it.section = out, out
	}
	if it.index == int(it.h.RecordCount) {
		if it.pos != len(it.section) {
			it.err = &RecordError{Index: it.index, Reason: fmt.Sprintf(
				"%d bytes follow the last of %d records", len(it.section)-it.pos, it.h.RecordCount)}
		}
		return false
	}
	n, err := it.decode(it.section[it.pos:])
	if err != "" {
		it.err = &RecordError{Index: it.index, Reason: err}
		return false
	}
	it.pos += n
	it.index++
	return true
}

// decode decodes the record at the start of b into it.rec and returns its
// encoded size, or a reason it does not decode. Reasons are plain strings so
// that the happy path builds no error values.
func (it *Iterator) decode(b []byte) (size int, reason string) {
	if len(b) == 0 {
		return 0, fmt.Sprintf("batch ends after %d of %d records", it.index, it.h.RecordCount)
	}
	length, n := readVarint(b)
	if n <= 0 {
		return 0, "bad length varint"
	}
	if length < 0 || int(length) > len(b)-n {
		return 0, fmt.Sprintf("length %d, but %d bytes remain", length, len(b)-n)
	}
	size = n + int(length)
	body := b[n:size:size]
	if len(body) < 1 {
		return 0, "missing attributes"
	}
	p := 1 // attributes are unused

	tsDelta, n := readVarlong(body[p:])
	if n <= 0 {
		return 0, "bad timestampDelta varlong"
	}
	p += n
	offDelta, n := readVarint(body[p:])
	if n <= 0 {
		return 0, "bad offsetDelta varint"
	}
	p += n
	if offDelta <= it.prevOff || offDelta > it.h.LastOffsetDelta {
		return 0, fmt.Sprintf("offsetDelta %d not in (%d, %d]", offDelta, it.prevOff, it.h.LastOffsetDelta)
	}

	key, n, ok := readNullable(body[p:])
	if !ok {
		return 0, "bad key"
	}
	p += n
	value, n, ok := readNullable(body[p:])
	if !ok {
		return 0, "bad value"
	}
	p += n

	count, n := readVarint(body[p:])
	if n <= 0 || count < 0 {
		return 0, "bad header count"
	}
	p += n
	// Each header takes at least two bytes, so a larger count is a lie and
	// must not size an allocation.
	if int(count) > (len(body)-p)/2 {
		return 0, fmt.Sprintf("%d headers cannot fit in %d bytes", count, len(body)-p)
	}
	it.headers = it.headers[:0]
	for i := 0; i < int(count); i++ {
		hk, n, ok := readNullable(body[p:])
		if !ok || hk == nil {
			return 0, fmt.Sprintf("bad key of header %d", i)
		}
		p += n
		hv, n, ok := readNullable(body[p:])
		if !ok {
			return 0, fmt.Sprintf("bad value of header %d", i)
		}
		p += n
		it.headers = append(it.headers, RecordHeader{Key: it.headerKey(i, hk), Value: hv})
	}
	if p != len(body) {
		return 0, fmt.Sprintf("length %d, but fields use %d bytes", length, p)
	}

	ts := it.h.FirstTimestamp + tsDelta
	if it.h.LogAppendTime() {
		ts = it.h.MaxTimestamp
	}
	var headers []RecordHeader
	if count > 0 {
		headers = it.headers
	}
	it.prevOff = offDelta
	it.rec = Record{
		Offset:    it.h.BaseOffset + int64(offDelta),
		Timestamp: ts,
		Key:       key,
		Value:     value,
		Headers:   headers,
	}
	return size, ""
}

// headerKey returns k as a string, reusing the string seen at the same
// header position of an earlier record when equal: records of one batch
// mostly carry the same header keys, and this avoids an allocation each.
func (it *Iterator) headerKey(i int, k []byte) string {
	if i < len(it.keyByPosn) {
		if it.keyByPosn[i] == string(k) {
			return it.keyByPosn[i]
		}
		it.keyByPosn[i] = string(k)
		return it.keyByPosn[i]
	}
	s := string(k)
	it.keyByPosn = append(it.keyByPosn, s)
	return s
}

// readNullable reads a varint-length-prefixed byte string; length -1 gives
// nil. The result's capacity ends at its length, so appending to it cannot
// overwrite the bytes that follow.
func readNullable(b []byte) (v []byte, n int, ok bool) {
	l, n := readVarint(b)
	if n <= 0 || l < -1 {
		return nil, 0, false
	}
	if l == -1 {
		return nil, n, true
	}
	end := n + int(l)
	if end > len(b) {
		return nil, 0, false
	}
	return b[n:end:end], end, true
}
