package kafka

import (
	"errors"
	"fmt"
	"testing"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
)

func testRecords(first, n int) []batch.Record {
	out := make([]batch.Record, n)
	for i := range out {
		k := first + i
		out[i] = batch.Record{
			Key:       []byte(fmt.Sprint("k", k)),
			Value:     []byte(fmt.Sprint("v", k)),
			Timestamp: 1_700_000_000_000 + int64(k*10),
			Headers:   []batch.RecordHeader{{Key: "h", Value: []byte{byte(k)}}, {Key: "nil"}},
		}
		if k%3 == 1 {
			out[i].Key = nil
		}
		if k%4 == 2 {
			out[i].Value = nil
		}
	}
	return out
}

func build(t *testing.T, opts batch.BuilderOptions, recs []batch.Record) []byte {
	t.Helper()
	b := batch.NewBuilder(opts)
	for _, r := range recs {
		b.Add(r)
	}
	data, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestConvertRoundTrip sends batches through both conversions, as Append
// and Fetch do around the wire: every record comes back at its offset
// with its key, value, timestamp and headers, in a batch that validates.
func TestConvertRoundTrip(t *testing.T) {
	first, second := testRecords(0, 7), testRecords(7, 5)
	in := append(build(t, batch.BuilderOptions{Codec: batch.Zstd}, first), build(t, batch.BuilderOptions{}, second)...)
	rb, n, err := toRecordBatch(in)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 || rb.LastOffsetDelta != 11 || rb.Codec != sarama.CompressionZSTD || rb.ProducerID != -1 {
		t.Fatalf("record batch: %d records, last delta %d, codec %v, producer %d", n, rb.LastOffsetDelta, rb.Codec, rb.ProducerID)
	}
	rb.FirstOffset = 100 // the broker's stamp
	out, err := toBatches(nil, []*sarama.Records{{RecordBatch: rb}, nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := batch.Validate(out, false)
	if err != nil {
		t.Fatalf("re-encoded batch: %v", err)
	}
	if h.Codec() != batch.None || h.BaseOffset != 100 || h.RecordCount != 12 || h.MaxTimestamp != 1_700_000_000_110 {
		t.Fatalf("re-encoded header %+v", h)
	}
	it, err := batch.NewIterator(out)
	if err != nil {
		t.Fatal(err)
	}
	want := append(first, second...)
	for i := 0; it.Next(); i++ {
		r, w := it.Record(), want[i]
		if r.Offset != 100+int64(i) || string(r.Key) != string(w.Key) || (r.Key == nil) != (w.Key == nil) ||
			(r.Value == nil) != (w.Value == nil) || string(r.Value) != string(w.Value) || r.Timestamp != w.Timestamp ||
			len(r.Headers) != 2 || r.Headers[0].Value[0] != byte(i) || r.Headers[1].Value != nil {
			t.Fatalf("record %d: %+v, want %+v", i, r, w)
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
}

// TestConvertKeepsAttributes: producer fields, log-append time and the
// control and transactional bits survive the fetch conversion.
func TestConvertKeepsAttributes(t *testing.T) {
	rb := &sarama.RecordBatch{
		Version: 2, FirstOffset: 40, LastOffsetDelta: 0, PartitionLeaderEpoch: 3,
		ProducerID: 77, ProducerEpoch: 2, FirstSequence: 9, IsTransactional: true, Control: true, LogAppendTime: true,
		FirstTimestamp: msTime(5000), MaxTimestamp: msTime(6000),
		Records: []*sarama.Record{{Key: []byte{0, 0, 0, 1}, Value: []byte{0, 0, 0, 0, 0, 0}}},
	}
	out, err := toBatches(nil, []*sarama.Records{{RecordBatch: rb}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := batch.Validate(out, false)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Control() || !h.Transactional() || !h.LogAppendTime() || h.ProducerID != 77 || h.ProducerEpoch != 2 ||
		h.BaseSequence != 9 || h.PartitionLeaderEpoch != 3 || h.MaxTimestamp != 6000 || h.FirstTimestamp != 5000 {
		t.Fatalf("header %+v", h)
	}
	// A batch cut short by the size limit is dropped, with what follows.
	out, err = toBatches(nil, []*sarama.Records{{RecordBatch: &sarama.RecordBatch{Version: 2, PartialTrailingRecord: true}}, {RecordBatch: rb}}, nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("partial batch: %d bytes, %v", len(out), err)
	}
}

func TestConvertRefuses(t *testing.T) {
	good := build(t, batch.BuilderOptions{}, testRecords(0, 3))
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 1
	txn := build(t, batch.BuilderOptions{ProducerID: 5, Transactional: true}, testRecords(0, 1))
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"corrupt":       {corrupt, log.ErrInvalidBatch},
		"truncated":     {good[:len(good)-4], log.ErrInvalidBatch},
		"empty":         {nil, log.ErrInvalidBatch},
		"transactional": {txn, broker.ErrTransactions},
	} {
		if _, _, err := toRecordBatch(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
