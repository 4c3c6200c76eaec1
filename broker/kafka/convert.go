package kafka

import (
	"fmt"
	"time"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
)

// sarama's public API has no way to send or receive a record batch as raw
// bytes: a produce request encodes a sarama.RecordBatch from its records,
// and a fetch response arrives decoded (and decompressed). So Append
// decodes eddy's batches into one sarama.RecordBatch, and Fetch re-encodes
// what sarama decoded into v2 batches. Both keep every field a consumer
// sees: offsets, timestamps, keys, values, headers, producer fields and
// attributes (compression excepted on Fetch, see toBatches).

// toRecordBatch decodes one or more concatenated v2 batches into a single
// sarama.RecordBatch with consecutive offset deltas, compressed with the
// first batch's codec. It returns the record count. Control and
// transactional batches are refused: they belong to transactions, which
// this client does not run yet.
func toRecordBatch(data []byte) (*sarama.RecordBatch, int, error) {
	var (
		rb      *sarama.RecordBatch
		n       int64
		firstTS int64
		maxTS   int64 = -1
	)
	for len(data) > 0 {
		one, rest, err := batch.Next(data)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
		}
		data = rest
		h, err := batch.Validate(one, true)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: batch %d: %w", log.ErrInvalidBatch, n, err)
		}
		if h.Control() || h.Transactional() {
			return nil, 0, fmt.Errorf("%w: transactional and control batches are not appended by this client", broker.ErrTransactions)
		}
		if rb == nil {
			firstTS = h.FirstTimestamp
			rb = &sarama.RecordBatch{
				Version:              2,
				PartitionLeaderEpoch: -1,
				Codec:                sarama.CompressionCodec(h.Codec()),
				CompressionLevel:     sarama.CompressionLevelDefault,
				LogAppendTime:        h.LogAppendTime(),
				FirstTimestamp:       msTime(firstTS),
				ProducerID:           -1,
				ProducerEpoch:        -1,
				FirstSequence:        -1,
				Records:              make([]*sarama.Record, 0, h.RecordCount),
			}
		}
		// A fresh iterator per batch: records of a compressed batch alias
		// its decompression buffer, which Reset would reuse.
		it, err := batch.NewIterator(one)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
		}
		for it.Next() {
			r := it.Record()
			rec := &sarama.Record{
				OffsetDelta:    n,
				TimestampDelta: time.Duration(r.Timestamp-firstTS) * time.Millisecond,
				Key:            r.Key,
				Value:          r.Value,
			}
			if len(r.Headers) > 0 {
				rec.Headers = make([]*sarama.RecordHeader, len(r.Headers))
				for i, hd := range r.Headers {
					rec.Headers[i] = &sarama.RecordHeader{Key: []byte(hd.Key), Value: hd.Value}
				}
			}
			rb.Records = append(rb.Records, rec)
			maxTS = max(maxTS, r.Timestamp)
			n++
		}
		if err := it.Err(); err != nil {
			return nil, 0, fmt.Errorf("%w: %w", log.ErrInvalidBatch, err)
		}
	}
	if n == 0 {
		return nil, 0, fmt.Errorf("%w: no records to append", log.ErrInvalidBatch)
	}
	rb.LastOffsetDelta = int32(n - 1)
	rb.MaxTimestamp = msTime(maxTS)
	return rb, int(n), nil
}

// toBatches appends the v2 encoding of sarama's decoded batches to dst.
// Records are written uncompressed (sarama has already decompressed them,
// and compressing again would only cost CPU in the same process), so the
// attributes keep everything but the codec and the CRC is recomputed.
// Batches cut short by the fetch size limit are dropped.
func toBatches(dst []byte, sets []*sarama.Records, recs []batch.Record) ([]byte, error) {
	for _, set := range sets {
		if set == nil {
			continue
		}
		rb := set.RecordBatch
		if rb == nil {
			if set.MsgSet != nil && len(set.MsgSet.Messages) > 0 {
				return dst, fmt.Errorf("%w: legacy message set (magic 0 or 1)", log.ErrInvalidBatch)
			}
			continue
		}
		if rb.PartialTrailingRecord {
			break
		}
		h := batch.Header{
			BaseOffset:           rb.FirstOffset,
			PartitionLeaderEpoch: rb.PartitionLeaderEpoch,
			Magic:                batch.Magic,
			Attributes:           attributes(rb),
			LastOffsetDelta:      rb.LastOffsetDelta,
			FirstTimestamp:       timeMs(rb.FirstTimestamp),
			MaxTimestamp:         timeMs(rb.MaxTimestamp),
			ProducerID:           rb.ProducerID,
			ProducerEpoch:        rb.ProducerEpoch,
			BaseSequence:         rb.FirstSequence,
		}
		recs = recs[:0]
		for _, r := range rb.Records {
			rec := batch.Record{
				Offset:    rb.FirstOffset + r.OffsetDelta,
				Timestamp: h.FirstTimestamp + r.TimestampDelta.Milliseconds(),
				Key:       r.Key,
				Value:     r.Value,
			}
			if len(r.Headers) > 0 {
				rec.Headers = make([]batch.RecordHeader, len(r.Headers))
				for i, hd := range r.Headers {
					rec.Headers[i] = batch.RecordHeader{Key: string(hd.Key), Value: hd.Value}
				}
			}
			recs = append(recs, rec)
		}
		var err error
		if dst, err = batch.Rebuild(h, recs, dst); err != nil {
			return dst, fmt.Errorf("%w: re-encode batch at offset %d: %w", log.ErrInvalidBatch, rb.FirstOffset, err)
		}
	}
	return dst, nil
}

// attributes rebuilds a fetched batch's attributes (bits as in package
// batch's format table).
func attributes(rb *sarama.RecordBatch) int16 {
	var a int16
	if rb.LogAppendTime {
		a |= 0x08
	}
	if rb.IsTransactional {
		a |= 0x10
	}
	if rb.Control {
		a |= 0x20
	}
	return a // compression bits 0: records are written uncompressed
}

// msTime and timeMs convert Kafka millisecond timestamps, where -1 (no
// timestamp) is sarama's zero time.
func msTime(ms int64) time.Time {
	if ms < 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func timeMs(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}
