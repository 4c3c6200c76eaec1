package batch

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The tests in this file use franz-go as an independent encoder and decoder
// of the format: kmsg for the batch and record structures, kgo for the
// codecs.

// decodeWithKmsg decodes a batch with kmsg and kgo's decompressor only.
func decodeWithKmsg(t *testing.T, b []byte) (kmsg.RecordBatch, []Record) {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		t.Fatalf("kmsg ReadFrom: %v", err)
	}
	if got := crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)); uint32(rb.CRC) != got {
		t.Fatalf("kmsg sees crc %#x, computed %#x", uint32(rb.CRC), got)
	}
	section, err := kgo.DefaultDecompressor().Decompress(rb.Records, kgo.CompressionCodecType(rb.Attributes&7))
	if err != nil {
		t.Fatalf("kgo Decompress: %v", err)
	}
	var recs []Record
	for len(section) > 0 {
		length, n := binary.Varint(section)
		if n <= 0 || int(length) > len(section)-n {
			t.Fatalf("bad record length at %d bytes from the end", len(section))
		}
		var kr kmsg.Record
		if err := kr.ReadFrom(section[:n+int(length)]); err != nil {
			t.Fatalf("kmsg record ReadFrom: %v", err)
		}
		section = section[n+int(length):]
		r := Record{
			Offset:    rb.FirstOffset + int64(kr.OffsetDelta),
			Timestamp: rb.FirstTimestamp + kr.TimestampDelta64,
			Key:       kr.Key,
			Value:     kr.Value,
		}
		for _, h := range kr.Headers {
			r.Headers = append(r.Headers, RecordHeader{Key: h.Key, Value: h.Value})
		}
		recs = append(recs, r)
	}
	if len(recs) != int(rb.NumRecords) {
		t.Fatalf("kmsg decoded %d records, header says %d", len(recs), rb.NumRecords)
	}
	return rb, recs
}

func TestOurBatchesDecodeWithKmsg(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, codec := range allCodecs {
		for _, recs := range [][]Record{sampleRecords(), randomRecords(rng, 30)} {
			opts := BuilderOptions{Codec: codec, ProducerID: 77, ProducerEpoch: 2, BaseSequence: 10}
			b := build(t, opts, recs)
			SetBaseOffset(b, 500)
			rb, got := decodeWithKmsg(t, b)
			if rb.FirstOffset != 500 || rb.Magic != 2 || rb.Length != int32(len(b)-12) ||
				rb.ProducerID != 77 || rb.ProducerEpoch != 2 || rb.FirstSequence != 10 ||
				rb.NumRecords != int32(len(recs)) || rb.LastOffsetDelta != int32(len(recs)-1) ||
				rb.PartitionLeaderEpoch != -1 || rb.FirstTimestamp != recs[0].Timestamp {
				t.Fatalf("%v: kmsg header %+v", codec, rb)
			}
			checkRecords(t, got, recs, 500, 0)
		}
	}
}

// encodeWithKmsg encodes records as a batch with kmsg and kgo's compressor,
// computing the CRC itself. Offset deltas are 0..n-1 unless gaps is set.
func encodeWithKmsg(t *testing.T, codec Codec, recs []Record, gaps bool) ([]byte, []Record) {
	t.Helper()
	var section []byte
	want := make([]Record, len(recs))
	first, maxTS := recs[0].Timestamp, recs[0].Timestamp
	var delta int32
	for i, r := range recs {
		if gaps && i > 0 {
			delta += 3
		} else if i > 0 {
			delta++
		}
		maxTS = max(maxTS, r.Timestamp)
		kr := kmsg.Record{TimestampDelta64: r.Timestamp - first, OffsetDelta: delta, Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		body := kr.AppendTo(nil)[1:] // the zero Length field is one byte
		kr.Length = int32(len(body))
		section = kr.AppendTo(section)
		want[i] = r
		want[i].Offset = 1234 + int64(delta)
	}
	if codec != None {
		c, err := kgo.DefaultCompressor(kgoCodec(codec))
		if err != nil {
			t.Fatal(err)
		}
		out, used := c.Compress(new(bytes.Buffer), section)
		if used != kgo.CompressionCodecType(codec) {
			t.Fatalf("kgo compressor used codec %d, want %v", used, codec)
		}
		section = out
	}
	rb := kmsg.RecordBatch{
		FirstOffset: 1234, Length: int32(49 + len(section)), PartitionLeaderEpoch: 3, Magic: 2,
		Attributes: int16(codec), LastOffsetDelta: delta, FirstTimestamp: first, MaxTimestamp: maxTS,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(recs)), Records: section,
	}
	b := rb.AppendTo(nil)
	crc := crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(b[17:], crc)
	return b, want
}

func TestKmsgBatchesValidateAndIterate(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, codec := range allCodecs {
		for _, recs := range [][]Record{sampleRecords(), randomRecords(rng, 30)} {
			b, want := encodeWithKmsg(t, codec, recs, false)
			h, err := Validate(b, true)
			if err != nil {
				t.Fatalf("%v: Validate kmsg batch: %v", codec, err)
			}
			if h.BaseOffset != 1234 || h.PartitionLeaderEpoch != 3 || h.Codec() != codec {
				t.Fatalf("%v: header %+v", codec, h)
			}
			_, got := readAll(t, b)
			if len(got) != len(want) {
				t.Fatalf("%v: read %d records, want %d", codec, len(got), len(want))
			}
			for i := range want {
				if d := diffRecord(got[i], want[i]); d != "" {
					t.Errorf("%v record %d: %s", codec, i, d)
				}
			}
		}
	}
}

// A compacted batch keeps its offset span but loses records: it must pass
// non-strict validation and iterate with the gaps.
func TestKmsgBatchWithOffsetGaps(t *testing.T) {
	for _, codec := range allCodecs {
		b, want := encodeWithKmsg(t, codec, sampleRecords(), true)
		if _, err := Validate(b, true); err == nil {
			t.Errorf("%v: strict Validate accepted recordCount != lastOffsetDelta+1", codec)
		}
		if _, err := Validate(b, false); err != nil {
			t.Fatalf("%v: non-strict Validate: %v", codec, err)
		}
		_, got := readAll(t, b)
		for i := range want {
			if d := diffRecord(got[i], want[i]); d != "" {
				t.Errorf("%v record %d: %s", codec, i, d)
			}
		}
	}
}

// The Java producer frames snappy in xerial blocks rather than writing one
// raw snappy block as franz-go does; both must iterate.
func TestXerialSnappy(t *testing.T) {
	recs := randomRecords(rand.New(rand.NewPCG(15, 16)), 40)
	plain := build(t, BuilderOptions{}, recs)
	section := plain[HeaderSize:]

	framed := append([]byte{}, xerialMagic...)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	framed = binary.BigEndian.AppendUint32(framed, 1)
	for rest := section; len(rest) > 0; {
		n := min(len(rest), 1000) // several blocks
		block := s2.EncodeSnappy(nil, rest[:n])
		framed = binary.BigEndian.AppendUint32(framed, uint32(len(block)))
		framed = append(framed, block...)
		rest = rest[n:]
	}
	h, _ := ParseHeader(plain)
	h.Attributes = int16(Snappy)
	b := rawBatch(h, framed)
	if _, err := Validate(b, true); err != nil {
		t.Fatal(err)
	}
	// kgo's decompressor agrees with ours on the framing.
	kgoOut, err := kgo.DefaultDecompressor().Decompress(framed, kgo.CodecSnappy)
	if err != nil || !bytes.Equal(kgoOut, section) {
		t.Fatalf("kgo decompressed xerial to %d bytes (err %v), want %d", len(kgoOut), err, len(section))
	}
	_, got := readAll(t, b)
	checkRecords(t, got, recs, 0, 0)
}
