package batch

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestRoundTripEachCodec(t *testing.T) {
	recs := sampleRecords()
	for _, codec := range allCodecs {
		t.Run(codec.String(), func(t *testing.T) {
			b := build(t, BuilderOptions{Codec: codec}, recs)
			h, err := Validate(b, true)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			want := Header{
				Length: int32(len(b) - 12), PartitionLeaderEpoch: -1, Magic: 2, CRC: h.CRC,
				Attributes: int16(codec), LastOffsetDelta: int32(len(recs) - 1),
				FirstTimestamp: recs[0].Timestamp, MaxTimestamp: 1_700_000_000_500,
				ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, RecordCount: int32(len(recs)),
			}
			if h != want {
				t.Errorf("header\n got %+v\nwant %+v", h, want)
			}
			if h.Codec() != codec || h.Size() != len(b) || h.LastOffset() != int64(len(recs)-1) {
				t.Errorf("Codec %v Size %d LastOffset %d", h.Codec(), h.Size(), h.LastOffset())
			}
			if codec != None && len(b) >= len(build(t, BuilderOptions{}, recs)) {
				t.Errorf("%v batch is %d bytes, not smaller than uncompressed", codec, len(b))
			}
			ih, got := readAll(t, b)
			if ih != h {
				t.Errorf("iterator header %+v, Validate header %+v", ih, h)
			}
			checkRecords(t, got, recs, 0, 0)
		})
	}
}

func TestRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		codec := allCodecs[i%len(allCodecs)]
		recs := randomRecords(rng, 1+rng.IntN(50))
		b := build(t, BuilderOptions{Codec: codec}, recs)
		if _, err := Validate(b, true); err != nil {
			t.Fatalf("case %d (%v): Validate: %v", i, codec, err)
		}
		_, got := readAll(t, b)
		checkRecords(t, got, recs, 0, 0)
	}
}

func TestRoundTripStampedOffsetAndLogAppendTime(t *testing.T) {
	recs := sampleRecords()
	for _, codec := range allCodecs {
		b := build(t, BuilderOptions{Codec: codec, LogAppendTime: true}, recs)
		SetBaseOffset(b, 1_000_000)
		SetPartitionLeaderEpoch(b, 7)
		const appendTime = 1_800_000_000_000
		SetLogAppendTime(b, appendTime)
		h, err := Validate(b, true)
		if err != nil {
			t.Fatalf("%v: Validate after stamping: %v", codec, err)
		}
		if h.BaseOffset != 1_000_000 || h.PartitionLeaderEpoch != 7 || !h.LogAppendTime() || h.MaxTimestamp != appendTime {
			t.Fatalf("%v: stamped header %+v", codec, h)
		}
		_, got := readAll(t, b)
		checkRecords(t, got, recs, 1_000_000, appendTime)
	}
}

func TestBuilderProducerAndAttributes(t *testing.T) {
	recs := sampleRecords()[:2]
	b := build(t, BuilderOptions{ProducerID: 42, ProducerEpoch: 0, BaseSequence: 0, Transactional: true}, recs)
	h, err := Validate(b, true)
	if err != nil {
		t.Fatal(err)
	}
	if h.ProducerID != 42 || h.ProducerEpoch != 0 || h.BaseSequence != 0 || !h.Transactional() || h.Control() || h.LogAppendTime() {
		t.Errorf("header %+v", h)
	}

	b = build(t, BuilderOptions{ProducerID: 9, ProducerEpoch: 3, BaseSequence: 100, Transactional: true, Control: true}, recs)
	if h, _ = Validate(b, true); h.ProducerEpoch != 3 || h.BaseSequence != 100 || !h.Control() || !h.Transactional() {
		t.Errorf("control header %+v", h)
	}

	// Without a producer id, epoch and sequence are ignored.
	for _, pid := range []int64{0, -1} {
		b = build(t, BuilderOptions{ProducerID: pid, ProducerEpoch: 5, BaseSequence: 5}, recs)
		if h, _ = Validate(b, true); h.ProducerID != -1 || h.ProducerEpoch != -1 || h.BaseSequence != -1 {
			t.Errorf("producer id %d: header %+v", pid, h)
		}
	}
}

func TestBuilderRejectsBadOptions(t *testing.T) {
	cases := []struct {
		opts BuilderOptions
		want error
	}{
		{BuilderOptions{Codec: 5}, ErrBadCodec},
		{BuilderOptions{Codec: -1}, ErrBadCodec},
		{BuilderOptions{Transactional: true}, ErrBadOptions},
		{BuilderOptions{ProducerID: 1, Control: true}, ErrBadOptions},
	}
	for _, c := range cases {
		b := NewBuilder(c.opts)
		b.Add(Record{Value: []byte("x")})
		dst := []byte("prefix")
		out, err := b.Build(dst)
		if !errors.Is(err, c.want) {
			t.Errorf("%+v: err %v, want %v", c.opts, err, c.want)
		}
		if string(out) != "prefix" {
			t.Errorf("%+v: dst changed to %q", c.opts, out)
		}
	}
}

func TestBuilderEmpty(t *testing.T) {
	for _, codec := range allCodecs {
		b := build(t, BuilderOptions{Codec: codec}, nil)
		h, err := Validate(b, true)
		if err != nil {
			t.Fatalf("%v: %v", codec, err)
		}
		if h.RecordCount != 0 || h.LastOffsetDelta != -1 || h.FirstTimestamp != -1 || h.MaxTimestamp != -1 {
			t.Errorf("%v: empty header %+v", codec, h)
		}
		if _, recs := readAll(t, b); len(recs) != 0 {
			t.Errorf("%v: read %d records from an empty batch", codec, len(recs))
		}
	}
}

func TestBuilderAppendsAndResets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	first, second := randomRecords(rng, 5), randomRecords(rng, 3)
	for _, codec := range allCodecs {
		b := NewBuilder(BuilderOptions{Codec: codec})
		for _, r := range first {
			b.Add(r)
		}
		if b.Len() != len(first) {
			t.Fatalf("Len %d, want %d", b.Len(), len(first))
		}
		buf, err := b.Build([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf, []byte("prefix")) {
			t.Fatalf("%v: Build did not append to dst", codec)
		}
		b.Reset()
		if b.Len() != 0 {
			t.Fatalf("Len after Reset %d", b.Len())
		}
		for _, r := range second {
			b.Add(r)
		}
		if buf, err = b.Build(buf); err != nil {
			t.Fatal(err)
		}
		// Two concatenated batches after the prefix, each its own records.
		one, rest, err := Next(buf[len("prefix"):])
		if err != nil {
			t.Fatal(err)
		}
		two, rest, err := Next(rest)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%v: second Next: %v, %d bytes left", codec, err, len(rest))
		}
		_, got := readAll(t, one)
		checkRecords(t, got, first, 0, 0)
		_, got = readAll(t, two)
		checkRecords(t, got, second, 0, 0)
	}
}

// TestBuilderTake: Take gives the bytes Build gives, for every codec and
// for errors; the builder then builds its next batch in the spare, and an
// uncompressed batch is the builder's own buffer, not a copy.
func TestBuilderTake(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, codec := range allCodecs {
		taker, builder := NewBuilder(BuilderOptions{Codec: codec}), NewBuilder(BuilderOptions{Codec: codec})
		var spare []byte
		for round := range 4 {
			recs := randomRecords(rng, rng.IntN(20))
			for _, r := range recs {
				taker.Add(r)
				builder.Add(r)
			}
			want, err := builder.Build(nil)
			if err != nil {
				t.Fatal(err)
			}
			builder.Reset()
			inBuilder := taker.buf
			got, err := taker.Take(spare)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v, round %d: Take gave %x, Build %x", codec, round, got, want)
			}
			if taker.Len() != 0 {
				t.Fatalf("%v: Len after Take %d", codec, taker.Len())
			}
			if codec == None && len(recs) > 0 && &got[0] != &inBuilder[0] {
				t.Fatalf("round %d: an uncompressed batch was copied out of the builder", round)
			}
			spare = got // recycled, as the engine's producer does
		}
	}
	b := NewBuilder(BuilderOptions{Codec: Codec(9)})
	b.Add(Record{Value: []byte("v")})
	spare := make([]byte, 3, 64)
	if out, err := b.Take(spare); !errors.Is(err, ErrBadCodec) || len(out) != 0 || cap(out) != 64 || b.Len() != 0 {
		t.Fatalf("Take with a bad codec = %d bytes (cap %d), %v; %d records left", len(out), cap(out), err, b.Len())
	}
}

func TestBuilderCopiesRecordBytes(t *testing.T) {
	b := NewBuilder(BuilderOptions{})
	buf := []byte("original")
	b.Add(Record{Value: buf})
	copy(buf, "mutated!")
	out, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, recs := readAll(t, out)
	if string(recs[0].Value) != "original" {
		t.Errorf("value %q: Add kept a reference to the caller's buffer", recs[0].Value)
	}
}

func TestIteratorReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var it Iterator
	for i := range 10 {
		codec := allCodecs[i%len(allCodecs)]
		recs := randomRecords(rng, 1+rng.IntN(20))
		b := build(t, BuilderOptions{Codec: codec}, recs)
		if err := it.Reset(b); err != nil {
			t.Fatal(err)
		}
		var got []Record
		for it.Next() {
			got = append(got, cloneRecord(it.Record()))
		}
		if err := it.Err(); err != nil {
			t.Fatalf("batch %d (%v): %v", i, codec, err)
		}
		checkRecords(t, got, recs, 0, 0)
	}
}

func TestUncompressedRecordsAliasBatch(t *testing.T) {
	b := build(t, BuilderOptions{}, []Record{{Key: []byte("key"), Value: []byte("value")}})
	it, err := NewIterator(b)
	if err != nil || !it.Next() {
		t.Fatalf("NewIterator: %v, Next false: %v", err, it.Err())
	}
	r := it.Record()
	if &r.Value[0] != &b[len(b)-len("value")-1] { // the header count follows the value
		t.Error("value of an uncompressed record does not alias the batch bytes")
	}
	if cap(r.Key) != len(r.Key) {
		t.Errorf("key capacity %d runs past its length %d", cap(r.Key), len(r.Key))
	}
}

func TestZeroAllocations(t *testing.T) {
	// Header keys repeat from record to record, as they do in practice.
	recs := randomRecords(rand.New(rand.NewPCG(7, 8)), 64)
	for i := range recs {
		recs[i].Headers = []RecordHeader{{Key: "trace", Value: []byte("t")}, {Key: "source", Value: nil}}
	}
	b := NewBuilder(BuilderOptions{})
	var out []byte
	buildOnce := func() {
		b.Reset()
		for _, r := range recs {
			b.Add(r)
		}
		var err error
		if out, err = b.Build(out[:0]); err != nil {
			t.Fatal(err)
		}
	}
	buildOnce()
	if n := testing.AllocsPerRun(20, buildOnce); n != 0 {
		t.Errorf("uncompressed Build of %d records: %.1f allocations, want 0", len(recs), n)
	}

	var it Iterator
	iterate := func() {
		if err := it.Reset(out); err != nil {
			t.Fatal(err)
		}
		for it.Next() {
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	iterate()
	if n := testing.AllocsPerRun(20, iterate); n != 0 {
		t.Errorf("iterating %d uncompressed records: %.1f allocations, want 0", len(recs), n)
	}
}

func TestCompressionLevels(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(9, 10)), 100)
	for _, c := range []struct {
		codec       Codec
		fast, small int
	}{{Gzip, 1, 9}, {Zstd, 1, 4}} {
		fast := build(t, BuilderOptions{Codec: c.codec, Level: c.fast}, recs)
		small := build(t, BuilderOptions{Codec: c.codec, Level: c.small}, recs)
		if len(small) >= len(fast) {
			t.Errorf("%v: level %d gave %d bytes, level %d gave %d", c.codec, c.small, len(small), c.fast, len(fast))
		}
		for _, b := range [][]byte{fast, small} {
			_, got := readAll(t, b)
			checkRecords(t, got, recs, 0, 0)
		}
	}
}
