package batch

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BuilderOptions configure the batches a [Builder] encodes. The zero value
// gives an uncompressed, non-idempotent batch.
type BuilderOptions struct {
	// Codec compresses the records section; default None.
	Codec Codec
	// Level is a codec-specific compression level, passed to franz-go's
	// compressor (gzip 1-9, zstd's klauspost EncoderLevel 1-4, lz4's
	// pierrec CompressionLevel). 0, or a level the codec does not accept,
	// gives the codec's default.
	Level int
	// ProducerID identifies an idempotent or transactional producer. Zero
	// (or -1) means "no producer": producerId, producerEpoch and
	// baseSequence are then all written as -1 whatever ProducerEpoch and
	// BaseSequence say. eddy hands out producer ids from 1, so 0 never
	// names a real one here.
	ProducerID int64
	// ProducerEpoch and BaseSequence are written as given when ProducerID
	// is non-zero (epoch 0 and sequence 0 are the usual first values).
	ProducerEpoch int16
	BaseSequence  int32
	// Transactional sets attributes bit 4; it needs a ProducerID.
	Transactional bool
	// LogAppendTime sets attributes bit 3. Timestamps are still encoded
	// from the records; the broker stamps the append time with
	// [SetLogAppendTime].
	LogAppendTime bool
	// Control sets attributes bit 5 (transaction markers); it needs
	// Transactional. The caller encodes the control records' keys and
	// values.
	Control bool
}

// Builder accumulates records and encodes one v2 batch. Records are encoded
// as they are added, so the caller may reuse a record's buffers as soon as
// Add returns. A Builder is not safe for concurrent use; reuse one with
// Reset to avoid allocations.
type Builder struct {
	opts BuilderOptions
	// buf holds room for the batch header, then the records section as
	// encoded so far, uncompressed: Take can fill the header in and hand
	// the batch over without copying the records.
	buf     []byte
	count   int
	firstTS int64
	maxTS   int64
	err     error // first Add failure, reported by Build

	compressor kgo.Compressor // created on first compressed Build
	compressed bytes.Buffer   // reused output of the compressor
}

// NewBuilder returns a Builder for batches with the given options. Invalid
// options are reported by Build.
func NewBuilder(opts BuilderOptions) *Builder {
	return &Builder{opts: opts}
}

// maxRecordsSection is the largest records section batchLength can describe.
const maxRecordsSection = math.MaxInt32 - minLength

// Add appends r to the batch. r.Offset is ignored: records get offset deltas
// 0..n-1 in the order added. The first record's timestamp becomes the
// batch's firstTimestamp; later ones may be smaller (negative deltas).
func (b *Builder) Add(r Record) {
	if b.err != nil {
		return
	}
	if b.count == 0 {
		b.firstTS, b.maxTS = r.Timestamp, r.Timestamp
	} else if r.Timestamp > b.maxTS {
		b.maxTS = r.Timestamp
	}
	if b.count == math.MaxInt32 {
		b.err = fmt.Errorf("%w: more than %d records in one batch", ErrBadCount, math.MaxInt32)
		return
	}
	tsDelta := r.Timestamp - b.firstTS
	offsetDelta := int32(b.count)
	body := recordBodySize(&r, tsDelta, offsetDelta)
	section := len(b.section())
	if body+varintSize(int64(body)) > maxRecordsSection-section {
		b.err = fmt.Errorf("%w: record %d (%d bytes) does not fit in a batch after %d bytes of records",
			ErrBadLength, b.count, body, section)
		return
	}
	b.buf = appendRecord(b.headerRoom(), &r, body, tsDelta, offsetDelta)
	b.count++
}

// headerRoom returns buf with the header's room at its start.
func (b *Builder) headerRoom() []byte {
	if len(b.buf) < HeaderSize {
		b.buf = append(b.buf[:0], make([]byte, HeaderSize)...)
	}
	return b.buf
}

// section is the records section encoded so far.
func (b *Builder) section() []byte {
	if len(b.buf) < HeaderSize {
		return nil
	}
	return b.buf[HeaderSize:]
}

// Len is the number of records added since the last Reset.
func (b *Builder) Len() int { return b.count }

// Reset empties the builder for the next batch, keeping its buffers and
// compressor.
func (b *Builder) Reset() {
	b.buf = b.buf[:0]
	b.count = 0
	b.firstTS, b.maxTS = 0, 0
	b.err = nil
}

// Build appends the encoded batch to dst and returns the extended slice. The
// batch has baseOffset 0 and partitionLeaderEpoch -1, for the broker to
// stamp. An empty builder gives a batch of no records with lastOffsetDelta
// -1 and timestamps -1. Errors come from compression (wrapping the codec's
// error), from invalid options (ErrBadCodec, ErrBadOptions) or from a record
// that did not fit (ErrBadLength); dst is then returned unchanged.
func (b *Builder) Build(dst []byte) ([]byte, error) {
	if b.err != nil {
		return dst, b.err
	}
	h, err := b.header()
	if err != nil {
		return dst, err
	}
	section := b.section()
	if b.opts.Codec != None {
		if section, err = b.compress(); err != nil {
			return dst, err
		}
	}
	if len(section) > maxRecordsSection {
		return dst, fmt.Errorf("%w: records section of %d bytes after %v compression", ErrBadLength, len(section), b.opts.Codec)
	}
	h.Length = int32(minLength + len(section))

	start := len(dst)
	dst = slices.Grow(dst, HeaderSize+len(section))
	dst = dst[:start+HeaderSize]
	dst = append(dst, section...)
	putHeader(dst[start:], &h)
	crc := Checksum(dst[start:])
	putCRC(dst[start:], crc)
	return dst, nil
}

// Take returns the encoded batch, as Build(nil) would, and resets the
// builder, which adopts spare's memory (emptied) for its next batch. An
// uncompressed batch is the builder's own buffer with the header filled
// in: its records are not copied, as Build copies them. The caller owns
// the result; handing it back as a later spare recycles it. A spare
// without an eighth of room beyond the batch taken is left for a buffer a
// quarter larger than that batch: the next batch is likely about as large,
// and growing it in steps would copy it each time. On error the builder is
// reset and spare is returned.
func (b *Builder) Take(spare []byte) ([]byte, error) {
	if b.opts.Codec != None || b.err != nil {
		out, err := b.Build(spare[:0])
		b.Reset()
		return out, err
	}
	h, err := b.header()
	if err != nil {
		b.Reset()
		return spare[:0], err
	}
	out := b.headerRoom()
	h.Length = int32(minLength + len(out) - HeaderSize)
	putHeader(out, &h)
	putCRC(out, Checksum(out))
	if cap(spare) < len(out)+len(out)/8 {
		spare = make([]byte, 0, len(out)+len(out)/4)
	}
	b.buf = spare[:0]
	b.Reset()
	return out, nil
}

func (b *Builder) header() (Header, error) {
	o := &b.opts
	if !o.Codec.Known() {
		return Header{}, fieldError(ErrBadCodec, "codec option", int64(o.Codec), "0-4")
	}
	h := Header{
		PartitionLeaderEpoch: noPartitionLeaderEpoch,
		Magic:                Magic,
		Attributes:           int16(o.Codec),
		LastOffsetDelta:      int32(b.count - 1),
		FirstTimestamp:       b.firstTS,
		MaxTimestamp:         b.maxTS,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		BaseSequence:         -1,
		RecordCount:          int32(b.count),
	}
	if b.count == 0 {
		h.FirstTimestamp, h.MaxTimestamp = -1, -1
	}
	if o.ProducerID > 0 {
		h.ProducerID, h.ProducerEpoch, h.BaseSequence = o.ProducerID, o.ProducerEpoch, o.BaseSequence
	}
	if o.LogAppendTime {
		h.Attributes |= attrLogAppendTime
	}
	if o.Transactional {
		if h.ProducerID < 0 {
			return Header{}, fmt.Errorf("%w: transactional batch needs a producer id, have %d", ErrBadOptions, h.ProducerID)
		}
		h.Attributes |= attrTransactional
	}
	if o.Control {
		if !o.Transactional {
			return Header{}, fmt.Errorf("%w: control batch must be transactional", ErrBadOptions)
		}
		h.Attributes |= attrControl
	}
	return h, nil
}

// compress returns the records section compressed with the builder's codec.
// The result aliases b.compressed and is valid until the next call.
func (b *Builder) compress() ([]byte, error) {
	if b.compressor == nil {
		c, err := kgo.DefaultCompressor(kgoCodec(b.opts.Codec).WithLevel(b.opts.Level))
		if err != nil {
			return nil, fmt.Errorf("batch: creating %v compressor: %w", b.opts.Codec, err)
		}
		if c == nil {
			return nil, fmt.Errorf("batch: no %v compressor available", b.opts.Codec)
		}
		b.compressor = c
	}
	b.compressed.Reset()
	out, used := b.compressor.Compress(&b.compressed, b.section())
	if used != kgo.CompressionCodecType(b.opts.Codec) {
		return nil, fmt.Errorf("batch: %v compression of %d bytes: %w", b.opts.Codec, len(b.section()), errCompressFailed)
	}
	return out, nil
}

// errCompressFailed stands in for the cause franz-go's compressor does not
// return.
var errCompressFailed = errors.New("compressor reported failure")

func kgoCodec(c Codec) kgo.CompressionCodec {
	switch c {
	case Gzip:
		return kgo.GzipCompression()
	case Snappy:
		return kgo.SnappyCompression()
	case LZ4:
		return kgo.Lz4Compression()
	case Zstd:
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}
