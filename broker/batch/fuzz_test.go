package batch

import (
	"errors"
	"testing"
)

// FuzzBatch feeds arbitrary bytes to Validate, Next and the Iterator. None
// may panic; what Validate accepts must iterate consistently with its
// header, and what iterates cleanly must survive a rebuild.
//
// Random bytes almost never carry a matching CRC, so each input is also
// checked with its CRC recomputed: that is what lets mutated batches reach
// the "Validate accepted it" path.
func FuzzBatch(f *testing.F) {
	// Seeds stay small: the fuzzer minimizes every input that finds new
	// coverage, and minimizing kilobytes takes it most of a run.
	small := []Record{
		{Timestamp: 1000, Key: []byte("k"), Value: []byte("value"), Headers: []RecordHeader{{Key: "h", Value: []byte("v")}}},
		{Timestamp: 990, Value: []byte{}},
		{Timestamp: 1005, Key: []byte{}, Value: nil, Headers: []RecordHeader{{Key: "h", Value: nil}}},
	}
	for _, codec := range allCodecs {
		f.Add(build(f, BuilderOptions{Codec: codec}, small))
		f.Add(build(f, BuilderOptions{Codec: codec, ProducerID: 3, Transactional: true, LogAppendTime: true}, small[:1]))
	}
	f.Add(build(f, BuilderOptions{}, nil))
	two := build(f, BuilderOptions{}, small[:2])
	f.Add(append(two, build(f, BuilderOptions{Codec: Zstd}, small[2:])...))
	f.Add(rawBatch(plainHeader(2), concat(framed(body(0, nil, []byte("v"), 0)), framed(body(1, []byte("k"), nil, 0)))))

	f.Fuzz(func(t *testing.T, data []byte) {
		checkSplits(t, data)
		checkBatch(t, data)
		if len(data) >= HeaderSize {
			fixed := append([]byte{}, data...)
			putCRC(fixed, Checksum(fixed))
			checkBatch(t, fixed)
		}
	})
}

func checkSplits(t *testing.T, data []byte) {
	for rest := data; len(rest) > 0; {
		batch, next, err := Next(rest)
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadLength) {
				t.Fatalf("Next: unexpected error %v", err)
			}
			return
		}
		if len(batch)+len(next) != len(rest) || len(batch) < HeaderSize {
			t.Fatalf("Next split %d bytes into %d + %d", len(rest), len(batch), len(next))
		}
		rest = next
	}
}

func checkBatch(t *testing.T, data []byte) {
	_, _ = Validate(data, true)
	_, validErr := Validate(data, false)

	var it Iterator
	it.SetDecompressLimit(4 << 20) // inputs are small; keep bombs cheap
	resetErr := it.Reset(data)
	if validErr == nil && resetErr != nil {
		t.Fatalf("Validate accepted what the Iterator refuses: %v", resetErr)
	}
	var recs []Record
	for it.Next() {
		r, h := it.Record(), it.Header()
		// Subtracting keeps the check right when BaseOffset+delta wraps.
		if d := r.Offset - h.BaseOffset; d < 0 || d > int64(h.LastOffsetDelta) {
			t.Fatalf("record offset delta %d outside [0, %d]", d, h.LastOffsetDelta)
		}
		recs = append(recs, cloneRecord(r))
	}
	if resetErr != nil {
		return
	}
	if err := it.Err(); err != nil {
		if !errors.Is(err, ErrBadRecord) {
			t.Fatalf("iteration error does not match ErrBadRecord: %v", err)
		}
		return
	}
	h := it.Header()
	if len(recs) != int(h.RecordCount) {
		t.Fatalf("clean iteration gave %d records, header says %d", len(recs), h.RecordCount)
	}

	// Rebuild what decoded and read it back: same keys, values, headers and
	// timestamps, offsets renumbered from 0.
	b := NewBuilder(BuilderOptions{Codec: h.Codec()})
	for _, r := range recs {
		b.Add(r)
	}
	out, err := b.Build(nil)
	if err != nil {
		t.Fatalf("rebuilding: %v", err)
	}
	if _, err := Validate(out, true); err != nil {
		t.Fatalf("rebuilt batch does not validate: %v", err)
	}
	again, err := NewIterator(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; again.Next(); i++ {
		want := recs[i]
		want.Offset = int64(i)
		if d := diffRecord(again.Record(), want); d != "" {
			t.Fatalf("rebuilt record %d: %s", i, d)
		}
	}
	if again.Err() != nil {
		t.Fatalf("iterating the rebuilt batch: %v", again.Err())
	}
}
