package batch

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateCorruption(t *testing.T) {
	good := build(t, BuilderOptions{}, sampleRecords())
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte{}, good...))
	}
	setLength := func(n int32) func([]byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint32(b[OffsetLength:], uint32(n)); return b }
	}
	// withHeader re-encodes the batch with a changed header and a fixed CRC,
	// so that only the intended field is wrong.
	withHeader := func(f func(h *Header)) []byte {
		h, _ := ParseHeader(good)
		f(&h)
		return rawBatch(h, good[HeaderSize:])
	}
	cases := []struct {
		name   string
		b      []byte
		strict bool
		want   error
		field  string
	}{
		{"empty", nil, true, ErrTruncated, "bytes"},
		{"cut in length", good[:10], true, ErrTruncated, "bytes"},
		{"cut in header", good[:HeaderSize-1], true, ErrTruncated, "bytes"},
		{"header only", good[:HeaderSize], true, ErrTruncated, "bytes"},
		{"cut in records", good[:len(good)/2], true, ErrTruncated, "bytes"},
		{"last byte missing", good[:len(good)-1], true, ErrTruncated, "bytes"},
		{"length too big", mutate(setLength(int32(len(good)))), true, ErrTruncated, "bytes"},
		{"trailing byte", append(append([]byte{}, good...), 0), true, ErrBadLength, "batchLength"},
		{"length smaller than header", mutate(setLength(48)), true, ErrBadLength, "batchLength"},
		{"length zero", mutate(setLength(0)), true, ErrBadLength, "batchLength"},
		{"length negative", mutate(setLength(-5)), true, ErrBadLength, "batchLength"},
		{"magic 1", mutate(func(b []byte) []byte { b[OffsetMagic] = 1; return b }), true, ErrBadMagic, "magic"},
		{"magic 3", mutate(func(b []byte) []byte { b[OffsetMagic] = 3; return b }), true, ErrBadMagic, "magic"},
		{"crc field", mutate(func(b []byte) []byte { b[OffsetCRC+3] ^= 1; return b }), true, ErrBadCRC, "crc"},
		{"codec 5", withHeader(func(h *Header) { h.Attributes = 5 }), true, ErrBadCodec, "attributes codec"},
		{"codec 7", withHeader(func(h *Header) { h.Attributes = 0x17 }), true, ErrBadCodec, "attributes codec"},
		{"count negative", withHeader(func(h *Header) { h.RecordCount = -1 }), false, ErrBadCount, "recordCount"},
		{"count over span", withHeader(func(h *Header) { h.RecordCount++ }), false, ErrBadCount, "recordCount"},
		{"count under span, strict", withHeader(func(h *Header) { h.LastOffsetDelta++ }), true, ErrBadCount, "recordCount"},
		{"lastOffsetDelta -2", withHeader(func(h *Header) { h.LastOffsetDelta, h.RecordCount = -2, 0 }), false, ErrBadCount, "lastOffsetDelta"},
	}
	for _, c := range cases {
		_, err := Validate(c.b, c.strict)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: err %#v, want a FieldError on %q", c.name, err, c.field)
		}
	}

	// A compacted batch spans more offsets than it holds records.
	thinned := withHeader(func(h *Header) { h.LastOffsetDelta += 10 })
	if _, err := Validate(thinned, false); err != nil {
		t.Errorf("non-strict Validate of a thinned batch: %v", err)
	}
}

func TestValidateEveryBitFlipInCRCArea(t *testing.T) {
	for _, codec := range []Codec{None, Zstd} {
		good := build(t, BuilderOptions{Codec: codec}, sampleRecords()[:3])
		b := append([]byte{}, good...)
		for i := OffsetCRC; i < len(b); i++ {
			for bit := range 8 {
				b[i] ^= 1 << bit
				if _, err := Validate(b, false); !errors.Is(err, ErrBadCRC) {
					t.Fatalf("%v: flipping bit %d of byte %d: err %v, want ErrBadCRC", codec, bit, i, err)
				}
				b[i] ^= 1 << bit
			}
		}
	}
}

func TestBrokerOwnedFieldsAreOutsideCRC(t *testing.T) {
	b := build(t, BuilderOptions{Codec: Gzip}, sampleRecords())
	for _, off := range []int64{0, 1, 1 << 40, -1} {
		SetBaseOffset(b, off)
		SetPartitionLeaderEpoch(b, int32(off))
		h, err := Validate(b, true)
		if err != nil {
			t.Fatalf("after SetBaseOffset(%d): %v", off, err)
		}
		if h.BaseOffset != off || h.PartitionLeaderEpoch != int32(off) {
			t.Fatalf("header %+v after setting %d", h, off)
		}
		if h.LastOffset() != off+int64(h.LastOffsetDelta) {
			t.Fatalf("LastOffset %d", h.LastOffset())
		}
	}
}

func TestNext(t *testing.T) {
	var log []byte
	var sizes []int
	for _, codec := range allCodecs {
		before := len(log)
		log = append(log, build(t, BuilderOptions{Codec: codec}, sampleRecords())...)
		sizes = append(sizes, len(log)-before)
	}

	rest := log
	for i, size := range sizes {
		batch, next, err := Next(rest)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if len(batch) != size || cap(batch) != size {
			t.Fatalf("batch %d: len %d cap %d, want %d", i, len(batch), cap(batch), size)
		}
		if h, err := Validate(batch, true); err != nil || h.Codec() != allCodecs[i] {
			t.Fatalf("batch %d: codec %v, %v", i, h.Codec(), err)
		}
		rest = next
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes left", len(rest))
	}

	// A torn tail: every cut inside the last batch is a partial batch after
	// four whole ones.
	lastStart := len(log) - sizes[len(sizes)-1]
	for cut := lastStart + 1; cut < len(log); cut++ {
		rest, whole := log[:cut], 0
		var err error
		for len(rest) > 0 && err == nil {
			_, rest, err = Next(rest)
			if err == nil {
				whole++
			}
		}
		if !errors.Is(err, ErrTruncated) || whole != len(sizes)-1 || len(rest) != cut-lastStart {
			t.Fatalf("cut at %d: %d whole batches, %d bytes left, err %v", cut, whole, len(rest), err)
		}
	}

	if _, _, err := Next(nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("Next(nil): %v", err)
	}
	zeros := make([]byte, 100) // a zero-filled tail is not a partial batch
	if _, rest, err := Next(zeros); !errors.Is(err, ErrBadLength) || len(rest) != len(zeros) {
		t.Errorf("Next(zeros): err %v, rest %d", err, len(rest))
	}
}

func TestParseHeaderAndAttributes(t *testing.T) {
	h := Header{
		BaseOffset: -2, Length: 1 << 30, PartitionLeaderEpoch: -3, Magic: 2, CRC: 0xdeadbeef,
		Attributes:      int16(Zstd) | attrLogAppendTime | attrTransactional | attrControl | attrDeleteHorizonSet,
		LastOffsetDelta: 1 << 20, FirstTimestamp: -4, MaxTimestamp: 1 << 50,
		ProducerID: 1 << 60, ProducerEpoch: -5, BaseSequence: 1<<31 - 1, RecordCount: 12,
	}
	b := make([]byte, HeaderSize)
	putHeader(b, &h)
	got, err := ParseHeader(b)
	if err != nil || got != h {
		t.Fatalf("ParseHeader: %+v, %v\nwant %+v", got, err, h)
	}
	if got.Codec() != Zstd || !got.LogAppendTime() || !got.Transactional() || !got.Control() || !got.DeleteHorizonSet() {
		t.Errorf("attribute accessors on %#x", got.Attributes)
	}
	if got.Size() != 12+1<<30 {
		t.Errorf("Size %d", got.Size())
	}
	if binary.BigEndian.Uint32(b[OffsetCRC:]) != 0xdeadbeef || b[OffsetMagic] != 2 {
		t.Error("fields not at their documented offsets")
	}
	if _, err := ParseHeader(b[:HeaderSize-1]); !errors.Is(err, ErrTruncated) {
		t.Errorf("short header: %v", err)
	}
	for c, name := range map[Codec]string{None: "none", Gzip: "gzip", Snappy: "snappy", LZ4: "lz4", Zstd: "zstd", 6: "codec(6)"} {
		if c.String() != name {
			t.Errorf("Codec(%d).String() = %q", c, c.String())
		}
	}
}
