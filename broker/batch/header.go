package batch

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
)

// HeaderSize is the size of the fixed v2 batch header, baseOffset through
// recordCount.
const HeaderSize = 61

// Byte offsets of the header fields. They are part of the format.
const (
	OffsetBaseOffset           = 0
	OffsetLength               = 8
	OffsetPartitionLeaderEpoch = 12
	OffsetMagic                = 16
	OffsetCRC                  = 17
	OffsetAttributes           = 21
	OffsetLastOffsetDelta      = 23
	OffsetFirstTimestamp       = 27
	OffsetMaxTimestamp         = 35
	OffsetProducerID           = 43
	OffsetProducerEpoch        = 51
	OffsetBaseSequence         = 53
	OffsetRecordCount          = 57
)

// OffsetLeaderEpoch is a short name for OffsetPartitionLeaderEpoch.
const OffsetLeaderEpoch = OffsetPartitionLeaderEpoch

// lengthPrefix is the bytes before and including batchLength, which the
// length does not count.
const lengthPrefix = OffsetLength + 4

// minLength is the smallest valid batchLength: the header after the field.
const minLength = HeaderSize - lengthPrefix

// Magic is the only supported value of the magic byte.
const Magic = 2

// Attribute bits.
const (
	codecMask            = 0x07
	attrLogAppendTime    = 0x08
	attrTransactional    = 0x10
	attrControl          = 0x20
	attrDeleteHorizonSet = 0x40
)

const maxKnownCodec = Zstd

// noPartitionLeaderEpoch is what producers write; the broker stamps the
// real epoch.
const noPartitionLeaderEpoch = -1

// castagnoli is immutable after init: the CRC-32C table.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Codec is a batch compression codec, stored in attributes bits 0-2.
type Codec int8

// The codecs of the v2 format.
const (
	None Codec = iota
	Gzip
	Snappy
	LZ4
	Zstd
)

func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return "codec(" + strconv.Itoa(int(c)) + ")"
}

// Known reports whether c is one of the five codecs of the format.
func (c Codec) Known() bool { return c >= None && c <= maxKnownCodec }

// Header is the decoded fixed header of a batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // the batchLength field: bytes after it (total size = 12 + Length)
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	RecordCount          int32
}

// Size is the total size of the batch in bytes: 12 + Length.
func (h Header) Size() int { return lengthPrefix + int(h.Length) }

// LastOffset is the offset of the last record the batch spans.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Codec is the compression of the records section.
func (h Header) Codec() Codec { return Codec(h.Attributes & codecMask) }

// LogAppendTime reports whether record timestamps are the broker's append
// time (MaxTimestamp) rather than the producer's create time.
func (h Header) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// Transactional reports whether the batch belongs to a transaction.
func (h Header) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records (transaction
// markers) rather than user data.
func (h Header) Control() bool { return h.Attributes&attrControl != 0 }

// DeleteHorizonSet reports whether compaction stored a delete horizon in
// FirstTimestamp.
func (h Header) DeleteHorizonSet() bool { return h.Attributes&attrDeleteHorizonSet != 0 }

// ParseHeader decodes the fixed header of the batch at the start of b without
// checking the CRC or any field's value. It fails with ErrTruncated if b is
// shorter than HeaderSize.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fieldError(ErrTruncated, "bytes", int64(len(b)), fmt.Sprintf(">= %d (header)", HeaderSize))
	}
	b = b[:HeaderSize]
	return Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[OffsetBaseOffset:])),
		Length:               int32(binary.BigEndian.Uint32(b[OffsetLength:])),
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[OffsetPartitionLeaderEpoch:])),
		Magic:                int8(b[OffsetMagic]),
		CRC:                  binary.BigEndian.Uint32(b[OffsetCRC:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[OffsetAttributes:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[OffsetLastOffsetDelta:])),
		FirstTimestamp:       int64(binary.BigEndian.Uint64(b[OffsetFirstTimestamp:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[OffsetMaxTimestamp:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[OffsetProducerID:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[OffsetProducerEpoch:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[OffsetBaseSequence:])),
		RecordCount:          int32(binary.BigEndian.Uint32(b[OffsetRecordCount:])),
	}, nil
}

// putHeader writes h into the first HeaderSize bytes of b, CRC included as
// given.
func putHeader(b []byte, h *Header) {
	b = b[:HeaderSize]
	binary.BigEndian.PutUint64(b[OffsetBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(b[OffsetLength:], uint32(h.Length))
	binary.BigEndian.PutUint32(b[OffsetPartitionLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[OffsetMagic] = byte(h.Magic)
	binary.BigEndian.PutUint32(b[OffsetCRC:], h.CRC)
	binary.BigEndian.PutUint16(b[OffsetAttributes:], uint16(h.Attributes))
	binary.BigEndian.PutUint32(b[OffsetLastOffsetDelta:], uint32(h.LastOffsetDelta))
	binary.BigEndian.PutUint64(b[OffsetFirstTimestamp:], uint64(h.FirstTimestamp))
	binary.BigEndian.PutUint64(b[OffsetMaxTimestamp:], uint64(h.MaxTimestamp))
	binary.BigEndian.PutUint64(b[OffsetProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(b[OffsetProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(b[OffsetBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(b[OffsetRecordCount:], uint32(h.RecordCount))
}

// Next splits the first batch off a buffer of concatenated batches using the
// length field only (no CRC or magic check): batch is b[:12+Length], rest
// the remainder. A buffer too short for the length field or for the batch it
// announces (including an empty buffer) returns ErrTruncated, so callers
// reading a log tail can tell a partial write from corruption; a length too
// small to hold a header returns ErrBadLength.
func Next(b []byte) (batch, rest []byte, err error) {
	if len(b) < lengthPrefix {
		return nil, b, fieldError(ErrTruncated, "bytes", int64(len(b)), fmt.Sprintf(">= %d (length field)", lengthPrefix))
	}
	length := int32(binary.BigEndian.Uint32(b[OffsetLength:]))
	if length < minLength {
		return nil, b, fieldError(ErrBadLength, "batchLength", int64(length), fmt.Sprintf(">= %d", minLength))
	}
	size := lengthPrefix + int(length)
	if len(b) < size {
		return nil, b, fieldError(ErrTruncated, "bytes", int64(len(b)), fmt.Sprintf(">= %d (12 + batchLength)", size))
	}
	return b[:size:size], b[size:], nil
}

// SetBaseOffset overwrites the baseOffset field in place. The CRC does not
// cover it, so the CRC stays valid. b must hold at least the header.
func SetBaseOffset(b []byte, offset int64) {
	binary.BigEndian.PutUint64(b[OffsetBaseOffset:OffsetBaseOffset+8], uint64(offset))
}

// SetPartitionLeaderEpoch overwrites the partitionLeaderEpoch field in place.
// The CRC does not cover it, so the CRC stays valid. b must hold at least
// the header.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[OffsetPartitionLeaderEpoch:OffsetPartitionLeaderEpoch+4], uint32(epoch))
}

// SetLogAppendTime marks the batch as using log append time and stores ts
// (ms since epoch) as its maxTimestamp, the way a broker does for topics
// with message.timestamp.type=LogAppendTime. Both fields are covered by the
// CRC, so b must be one whole batch (as from [Next]) and the CRC is
// recomputed over it.
func SetLogAppendTime(b []byte, ts int64) {
	attrs := binary.BigEndian.Uint16(b[OffsetAttributes : OffsetAttributes+2])
	binary.BigEndian.PutUint16(b[OffsetAttributes:], attrs|attrLogAppendTime)
	binary.BigEndian.PutUint64(b[OffsetMaxTimestamp:OffsetMaxTimestamp+8], uint64(ts))
	putCRC(b, Checksum(b))
}

func putCRC(b []byte, crc uint32) {
	binary.BigEndian.PutUint32(b[OffsetCRC:OffsetCRC+4], crc)
}

// Checksum computes the CRC-32C the header's crc field should hold for the
// whole batch b: the checksum of b[OffsetAttributes:]. b must hold at least
// the header.
func Checksum(b []byte) uint32 {
	return crc32.Checksum(b[OffsetAttributes:], castagnoli)
}
