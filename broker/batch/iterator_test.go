package batch

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// body encodes record fields after the length: attributes, deltas, key,
// value, then the given header count and raw header bytes.
func body(offsetDelta int64, key, value []byte, headerCount int64, headers ...[]byte) []byte {
	b := []byte{0}
	b = appendVarint(b, 0)
	b = appendVarint(b, offsetDelta)
	b = appendNullable(b, key)
	b = appendNullable(b, value)
	b = appendVarint(b, headerCount)
	for _, h := range headers {
		b = append(b, h...)
	}
	return b
}

// framed prefixes a record body with its length.
func framed(body []byte) []byte { return append(appendVarint(nil, int64(len(body))), body...) }

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestIteratorMalformedRecords(t *testing.T) {
	ok0 := framed(body(0, []byte("k"), []byte("v"), 0))
	ok1 := framed(body(1, []byte("k"), []byte("v"), 0))
	header := func(keyLen int64, key string, valueLen int64, value string) []byte {
		b := append(appendVarint(nil, keyLen), key...)
		return append(appendVarint(b, valueLen), value...)
	}
	cases := []struct {
		name    string
		count   int32
		section []byte
		index   int    // record the error names
		reason  string // part of the message
	}{
		{"length varint overflows", 1, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, "length varint"},
		{"length varint cut", 1, []byte{0x80}, 0, "length varint"},
		{"length negative", 1, appendVarint(nil, -3), 0, "length -3"},
		{"length past end", 1, append(appendVarint(nil, 50), 0, 0), 0, "length 50"},
		{"empty body", 1, appendVarint(nil, 0), 0, "attributes"},
		{"fields shorter than length", 1, framed(append(body(0, nil, nil, 0), 0, 0)), 0, "fields use"},
		{"key length -2", 1, framed(append([]byte{0, 0, 0}, appendVarint(nil, -2)...)), 0, "bad key"},
		{"key past record", 1, framed(append([]byte{0, 0, 0}, appendVarint(nil, 10)...)), 0, "bad key"},
		{"value past record", 1, framed(append([]byte{0, 0, 0, 1}, appendVarint(nil, 10)...)), 0, "bad value"},
		{"header count negative", 1, framed(body(0, nil, nil, -1)), 0, "header count"},
		{"header count huge", 1, framed(body(0, nil, nil, 1<<30, header(1, "a", 1, "b"))), 0, "cannot fit"},
		{"null header key", 1, framed(body(0, nil, nil, 1, header(-1, "", 1, "a"))), 0, "key of header 0"},
		{"header value past record", 1, framed(body(0, nil, nil, 1, header(1, "a", 5, "ab"))), 0, "value of header 0"},
		{"offset delta repeats", 2, concat(ok0, ok0), 1, "offsetDelta 0"},
		{"offset delta negative", 1, framed(body(-1, nil, nil, 0)), 0, "offsetDelta -1"},
		{"offset delta past last", 2, concat(ok0, framed(body(2, nil, nil, 0))), 1, "offsetDelta 2"},
		{"fewer records than count", 3, concat(ok0, ok1), 2, "ends after 2 of 3"},
		{"bytes after last record", 1, concat(ok0, []byte{1, 2}), 1, "2 bytes follow"},
		{"two records, count one", 1, concat(ok0, ok1), 1, "follow the last"},
	}
	for _, c := range cases {
		h := plainHeader(c.count)
		b := rawBatch(h, c.section)
		if _, err := Validate(b, true); err != nil {
			t.Fatalf("%s: the header itself is invalid: %v", c.name, err)
		}
		it, err := NewIterator(b)
		if err != nil {
			t.Fatalf("%s: NewIterator: %v", c.name, err)
		}
		n := 0
		for it.Next() {
			n++
		}
		var re *RecordError
		if err := it.Err(); !errors.Is(err, ErrBadRecord) || !errors.As(err, &re) {
			t.Errorf("%s: err %v, want a RecordError", c.name, err)
			continue
		}
		if re.Index != c.index || n != c.index || !strings.Contains(re.Error(), c.reason) {
			t.Errorf("%s: %d records then %q (index %d), want index %d and %q", c.name, n, re.Error(), re.Index, c.index, c.reason)
		}
		if it.Next() {
			t.Errorf("%s: Next true after an error", c.name)
		}
	}
}

func TestNewIteratorRejectsBadHeaders(t *testing.T) {
	good := build(t, BuilderOptions{}, sampleRecords())
	bad := func(f func(h *Header)) []byte {
		h, _ := ParseHeader(good)
		f(&h)
		return rawBatch(h, good[HeaderSize:])
	}
	magic := append([]byte{}, good...)
	magic[OffsetMagic] = 1
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:HeaderSize-1], ErrTruncated},
		{"cut", good[:len(good)-1], ErrTruncated},
		{"trailing", append(append([]byte{}, good...), 9), ErrBadLength},
		{"magic", magic, ErrBadMagic},
		{"codec", bad(func(h *Header) { h.Attributes = 6 }), ErrBadCodec},
		{"count", bad(func(h *Header) { h.RecordCount = -1 }), ErrBadCount},
	}
	for _, c := range cases {
		if _, err := NewIterator(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		var it Iterator
		if err := it.Reset(c.b); !errors.Is(err, c.want) || it.Next() || !errors.Is(it.Err(), c.want) {
			t.Errorf("%s: Reset %v, Err %v", c.name, err, it.Err())
		}
	}
}

func TestIteratorCorruptCompressedSection(t *testing.T) {
	for _, codec := range allCodecs[1:] {
		h := plainHeader(1)
		h.Attributes = int16(codec)
		b := rawBatch(h, []byte("this is not compressed data at all"))
		it, err := NewIterator(b)
		if err != nil {
			t.Fatal(err)
		}
		var re *RecordError
		if it.Next() || !errors.As(it.Err(), &re) || re.Index != -1 || re.Cause == nil {
			t.Errorf("%v: Next on garbage: err %v", codec, it.Err())
		}
	}
}

// heapGrowth runs f and reports the bytes it allocated.
func heapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecompressLimit(t *testing.T) {
	const limit = 1 << 20
	const size = 16 << 20
	big := []Record{{Value: make([]byte, size)}} // zeros: a small batch, a large section
	for _, codec := range allCodecs[1:] {
		b := build(t, BuilderOptions{Codec: codec}, big)
		it, err := NewIterator(b)
		if err != nil {
			t.Fatal(err)
		}
		it.SetDecompressLimit(limit)
		grew := heapGrowth(func() {
			for it.Next() {
			}
		})
		if !errors.Is(it.Err(), ErrBadRecord) || !errors.Is(it.Err(), errTooLarge) {
			t.Errorf("%v: %d-byte batch of 16 MiB: err %v, want the limit error", codec, len(b), it.Err())
		}
		// Decoding it all would take over 16 MiB; the codecs' own buffers
		// (lz4 blocks are up to 4 MiB) come on top of the 1 MiB limit.
		if grew > 12<<20 {
			t.Errorf("%v: allocated %d bytes under a %d-byte limit", codec, grew, limit)
		}

		// The same batch iterates under the default limit.
		if err := it.Reset(b); err != nil {
			t.Fatal(err)
		}
		it.SetDecompressLimit(0)
		if !it.Next() || len(it.Record().Value) != size {
			t.Errorf("%v: default limit: %v", codec, it.Err())
		}
	}
}

// readLimited never offers the reader room past limit+1 bytes, however much
// the reader has to give.
func TestReadLimitedBound(t *testing.T) {
	for _, limit := range []int{0, 1, 4095, 4096, 10_000, 1 << 20} {
		r := &endlessReader{}
		out, err := readLimited(r, nil, limit)
		if !errors.Is(err, errTooLarge) || out != nil {
			t.Errorf("limit %d: %d bytes, err %v", limit, len(out), err)
		}
		if r.maxEnd > limit+1 {
			t.Errorf("limit %d: reader was offered room up to byte %d", limit, r.maxEnd)
		}
		r2 := &endlessReader{stopAt: limit, stops: true}
		if out, err := readLimited(r2, nil, limit); err != nil || len(out) != limit {
			t.Errorf("limit %d: exactly limit bytes gave %d bytes, err %v", limit, len(out), err)
		}
	}
}

// endlessReader yields zeros, up to stopAt bytes if stops, and records the
// furthest end of the buffers it was given.
type endlessReader struct {
	read, stopAt, maxEnd int
	stops                bool
}

func (r *endlessReader) Read(p []byte) (int, error) {
	r.maxEnd = max(r.maxEnd, r.read+len(p))
	n := len(p)
	if r.stops {
		n = min(n, r.stopAt-r.read)
		if n == 0 {
			return 0, io.EOF
		}
	}
	clear(p[:n])
	r.read += n
	return n, nil
}

// A snappy block or zstd frame declares its decoded size up front; a lying
// claim must be refused before anything that size is allocated.
func TestDecompressClaimIsCheckedBeforeAllocating(t *testing.T) {
	snappyClaim := appendUvarint(nil, 1<<30) // claims 1 GiB
	snappyClaim = append(snappyClaim, 0x00, 'x')
	xerial := append(append([]byte{}, xerialMagic...), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, byte(len(snappyClaim)))
	xerial = append(xerial, snappyClaim...)
	// A zstd frame header with a single-segment 8-byte content size of
	// 1 GiB, then a raw block that does not deliver it.
	zstdClaim := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0x01, 0, 0, 'x'}
	for _, c := range []struct {
		codec   Codec
		section []byte
	}{{Snappy, snappyClaim}, {Snappy, xerial}, {Zstd, zstdClaim}} {
		h := plainHeader(1)
		h.Attributes = int16(c.codec)
		it, err := NewIterator(rawBatch(h, c.section))
		if err != nil {
			t.Fatal(err)
		}
		it.SetDecompressLimit(1 << 20)
		grew := heapGrowth(func() {
			for it.Next() {
			}
		})
		if !errors.Is(it.Err(), ErrBadRecord) {
			t.Errorf("%v claim: err %v", c.codec, it.Err())
		}
		if grew > 8<<20 {
			t.Errorf("%v claim of 1 GiB: allocated %d bytes", c.codec, grew)
		}
		t.Logf("%v: %d bytes allocated; %v", c.codec, grew, it.Err())
	}
}

func appendUvarint(dst []byte, u uint64) []byte {
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

func TestHeaderKeysAreStableStrings(t *testing.T) {
	recs := []Record{
		{Headers: []RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b"}}},
		{Headers: []RecordHeader{{Key: "a", Value: []byte("2")}, {Key: "c"}}},
		{Headers: []RecordHeader{{Key: "z"}}},
	}
	b := build(t, BuilderOptions{}, recs)
	it, _ := NewIterator(b)
	var keys []string
	for it.Next() {
		for _, h := range it.Record().Headers {
			keys = append(keys, h.Key)
		}
	}
	if got := strings.Join(keys, ","); got != "a,b,a,c,z" || it.Err() != nil {
		t.Errorf("keys %q, err %v", got, it.Err())
	}
}
