package batch

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

var allCodecs = []Codec{None, Gzip, Snappy, LZ4, Zstd}

// sampleRecords covers the awkward cases: null and empty keys and values,
// headers with null and empty values, timestamps before the first one.
func sampleRecords() []Record {
	return []Record{
		{Timestamp: 1_700_000_000_000, Key: []byte("k0"), Value: []byte("value zero"),
			Headers: []RecordHeader{{Key: "trace", Value: []byte("abc")}, {Key: "null", Value: nil}}},
		{Timestamp: 1_700_000_000_500, Key: nil, Value: []byte("null key")},
		{Timestamp: 1_699_999_999_000, Key: []byte("tomb"), Value: nil}, // negative delta, tombstone
		{Timestamp: 1_700_000_000_001, Key: []byte{}, Value: []byte{}},  // empty, not null
		{Timestamp: 1_700_000_000_002, Key: []byte("k4"), Value: bytes.Repeat([]byte("compressible "), 200),
			Headers: []RecordHeader{{Key: "", Value: []byte{}}, {Key: "trace", Value: []byte("def")}}},
		{Timestamp: 1_600_000_000_000, Key: nil, Value: nil}, // far in the past, all null
	}
}

// randomRecords returns n records with pseudo-random contents.
func randomRecords(rng *rand.Rand, n int) []Record {
	recs := make([]Record, n)
	base := rng.Int64N(1 << 41)
	for i := range recs {
		r := &recs[i]
		r.Timestamp = base + rng.Int64N(200_000) - 100_000
		if rng.IntN(5) > 0 {
			r.Key = randomBytes(rng, rng.IntN(40))
		}
		if rng.IntN(8) > 0 {
			r.Value = randomBytes(rng, rng.IntN(3000))
		}
		for range rng.IntN(4) {
			h := RecordHeader{Key: fmt.Sprintf("h%d", rng.IntN(3))}
			if rng.IntN(4) > 0 {
				h.Value = randomBytes(rng, rng.IntN(20))
			}
			r.Headers = append(r.Headers, h)
		}
	}
	return recs
}

// randomBytes is text-like so that compression has something to do.
func randomBytes(rng *rand.Rand, n int) []byte {
	const alphabet = "abcdefghij klmnop"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return b
}

func build(t testing.TB, opts BuilderOptions, recs []Record) []byte {
	t.Helper()
	b := NewBuilder(opts)
	for _, r := range recs {
		b.Add(r)
	}
	out, err := b.Build(nil)
	if err != nil {
		t.Fatalf("Build(%+v): %v", opts, err)
	}
	return out
}

// readAll iterates a batch and deep-copies its records.
func readAll(t testing.TB, b []byte) (Header, []Record) {
	t.Helper()
	it, err := NewIterator(b)
	if err != nil {
		t.Fatalf("NewIterator: %v", err)
	}
	var recs []Record
	for it.Next() {
		recs = append(recs, cloneRecord(it.Record()))
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterating: %v", err)
	}
	return it.Header(), recs
}

func cloneRecord(r Record) Record {
	c := r
	c.Key = cloneNullable(r.Key)
	c.Value = cloneNullable(r.Value)
	c.Headers = nil
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, RecordHeader{Key: h.Key, Value: cloneNullable(h.Value)})
	}
	return c
}

func cloneNullable(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// diffRecord describes how got differs from want, or returns "".
func diffRecord(got, want Record) string {
	switch {
	case got.Offset != want.Offset:
		return fmt.Sprintf("offset %d, want %d", got.Offset, want.Offset)
	case got.Timestamp != want.Timestamp:
		return fmt.Sprintf("timestamp %d, want %d", got.Timestamp, want.Timestamp)
	case !sameBytes(got.Key, want.Key):
		return fmt.Sprintf("key %q (nil %t), want %q (nil %t)", got.Key, got.Key == nil, want.Key, want.Key == nil)
	case !sameBytes(got.Value, want.Value):
		return fmt.Sprintf("value %.40q (nil %t), want %.40q (nil %t)", got.Value, got.Value == nil, want.Value, want.Value == nil)
	case len(got.Headers) != len(want.Headers):
		return fmt.Sprintf("%d headers, want %d", len(got.Headers), len(want.Headers))
	}
	for i := range got.Headers {
		g, w := got.Headers[i], want.Headers[i]
		if g.Key != w.Key || !sameBytes(g.Value, w.Value) {
			return fmt.Sprintf("header %d = %q:%q (nil %t), want %q:%q (nil %t)",
				i, g.Key, g.Value, g.Value == nil, w.Key, w.Value, w.Value == nil)
		}
	}
	return ""
}

// checkRecords compares records read back with the records added, whose
// offsets are their positions from base.
func checkRecords(t testing.TB, got, added []Record, base int64, logAppendTime int64) {
	t.Helper()
	if len(got) != len(added) {
		t.Fatalf("read %d records, want %d", len(got), len(added))
	}
	for i := range added {
		want := added[i]
		want.Offset = base + int64(i)
		if logAppendTime != 0 {
			want.Timestamp = logAppendTime
		}
		if d := diffRecord(got[i], want); d != "" {
			t.Errorf("record %d: %s", i, d)
		}
	}
}

// rawBatch encodes a header and a records section as given, fixing only the
// length and the CRC, so tests can build batches the Builder never would.
func rawBatch(h Header, section []byte) []byte {
	h.Length = int32(minLength + len(section))
	b := make([]byte, HeaderSize, HeaderSize+len(section))
	b = append(b, section...)
	putHeader(b, &h)
	putCRC(b, Checksum(b))
	return b
}

// plainHeader is a valid header for an uncompressed batch of n records.
func plainHeader(n int32) Header {
	return Header{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: n - 1,
		FirstTimestamp: 1000, MaxTimestamp: 1000,
		ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, RecordCount: n,
	}
}
