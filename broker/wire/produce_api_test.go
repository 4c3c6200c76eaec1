package wire

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker/batch"
)

// produceRequest asks to write records to one partition of each topic in
// order; topics are named, or for v13+ identified by id through ids.
func produceRequest(version, acks int16, topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = version
	req.Acks = acks
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func producePartitionResult(t *testing.T, resp *kmsg.ProduceResponse) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce response %+v, want one topic with one partition", resp.Topics)
	}
	return resp.Topics[0].Partitions[0]
}

func TestProduceAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	info, _ := d.b.Topic("events")
	next := int64(0)
	for v := int16(3); v <= 13; v++ {
		req := produceRequest(v, -1, "events", 0, dataBatch(t, "v", 3, 0))
		if v >= 13 {
			req.Topics[0].Topic, req.Topics[0].TopicID = "", info.ID
		}
		resp := dataRequest[*kmsg.ProduceResponse](t, d.clientAt(t, produceKey, v), req)
		if resp.Version != v {
			t.Fatalf("answered v%d, want v%d", resp.Version, v)
		}
		if v >= 13 && resp.Topics[0].TopicID != info.ID {
			t.Errorf("v%d: response topic id %x, want %x", v, resp.Topics[0].TopicID, info.ID)
		}
		p := producePartitionResult(t, resp)
		if p.ErrorCode != 0 || p.BaseOffset != next || p.LogAppendTime != -1 {
			t.Fatalf("v%d: error %d, base offset %d, log append time %d; want 0, %d, -1", v, p.ErrorCode, p.BaseOffset, p.LogAppendTime, next)
		}
		if v >= 5 && p.LogStartOffset != 0 {
			t.Errorf("v%d: log start offset %d, want 0", v, p.LogStartOffset)
		}
		next += 3
	}
	part, _ := d.b.Partition("events", 0)
	if _, hw, _ := part.Offsets(); hw != next {
		t.Errorf("high watermark %d after acks=all produces, want %d", hw, next)
	}
}

func TestProduceOldMessageFormatsRefused(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	c := dial(t, d.addr)
	for v := int16(0); v <= 2; v++ {
		resp := c.roundTrip(produceRequest(v, -1, "events", 0, dataBatch(t, "old", 1, 0)), int32(v)).(*kmsg.ProduceResponse)
		if p := producePartitionResult(t, resp); p.ErrorCode != kerr.UnsupportedForMessageFormat.Code {
			t.Errorf("v%d: error %d, want UNSUPPORTED_FOR_MESSAGE_FORMAT", v, p.ErrorCode)
		}
	}
	part, _ := d.b.Partition("events", 0)
	if _, hw, end := part.Offsets(); hw != 0 || end != 0 {
		t.Errorf("old-format produce wrote: high watermark %d, end %d", hw, end)
	}
}

func TestProduceErrors(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 2)
	cl := d.clientAt(t, produceKey, 9)
	good := dataBatch(t, "x", 2, 0)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 0xff // breaks the CRC
	transactional := func() []byte {
		bb := batch.NewBuilder(batch.BuilderOptions{ProducerID: 7, Transactional: true})
		bb.Add(batch.Record{Value: []byte("in a transaction")})
		b, err := bb.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	for _, tc := range []struct {
		name      string
		topic     string
		partition int32
		records   []byte
		want      int16
	}{
		{"unknown topic", "missing", 0, good, kerr.UnknownTopicOrPartition.Code},
		{"unknown partition", "events", 2, good, kerr.UnknownTopicOrPartition.Code},
		{"internal topic", "__consumer_offsets", 0, good, kerr.InvalidTopicException.Code},
		{"corrupt batch", "events", 0, corrupt, kerr.CorruptMessage.Code},
		{"no records", "events", 0, nil, kerr.CorruptMessage.Code},
		{"transactional batch", "events", 1, transactional, kerr.TransactionalIDAuthorizationFailed.Code},
	} {
		req := produceRequest(9, -1, tc.topic, tc.partition, tc.records)
		resp := dataRequest[*kmsg.ProduceResponse](t, cl, req)
		p := producePartitionResult(t, resp)
		if p.ErrorCode != tc.want {
			t.Errorf("%s: error %d (%v), want %d", tc.name, p.ErrorCode, kerr.ErrorForCode(p.ErrorCode), tc.want)
		}
		if p.BaseOffset != -1 {
			t.Errorf("%s: base offset %d on error, want -1", tc.name, p.BaseOffset)
		}
	}
	if _, ok := d.b.Topic("missing"); ok {
		t.Error("produce auto-created a topic; Kafka never does")
	}
	for i := int32(0); i < 2; i++ {
		part, _ := d.b.Partition("events", i)
		if _, _, end := part.Offsets(); end != 0 {
			t.Errorf("partition %d: refused produces wrote up to %d", i, end)
		}
	}

	byID := produceRequest(13, -1, "", 0, good)
	byID.Topics[0].TopicID = [16]byte{9, 9, 9}
	resp := dataRequest[*kmsg.ProduceResponse](t, d.clientAt(t, produceKey, 13), byID)
	if p := producePartitionResult(t, resp); p.ErrorCode != kerr.UnknownTopicID.Code {
		t.Errorf("unknown topic id: error %d, want UNKNOWN_TOPIC_ID", p.ErrorCode)
	}
}

func TestProduceInvalidAcks(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	c := dial(t, d.addr)
	resp := c.roundTrip(produceRequest(9, 2, "events", 0, dataBatch(t, "a", 1, 0)), 1).(*kmsg.ProduceResponse)
	if p := producePartitionResult(t, resp); p.ErrorCode != kerr.InvalidRequiredAcks.Code {
		t.Errorf("acks=2: error %d, want INVALID_REQUIRED_ACKS", p.ErrorCode)
	}
}

// With acks=0 the broker writes the records and sends nothing back: the
// next response on the connection is the next request's.
func TestProduceAcksZeroSendsNoResponse(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	c := dial(t, d.addr)
	c.send(produceRequest(9, 0, "events", 0, dataBatch(t, "fire-and-forget", 5, 0)), 1)
	resp := c.roundTrip(metadataRequest(1, "events"), 2).(*kmsg.MetadataResponse)
	if len(resp.Topics) != 1 {
		t.Fatalf("metadata after acks=0 produce: %+v", resp.Topics)
	}
	part, _ := d.b.Partition("events", 0)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := part.Log().WaitFor(ctx, 4); err != nil {
		t.Fatalf("acks=0 records never became readable: %v", err)
	}
}

func TestProduceIdempotentRetryAndGap(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	cl := d.clientAt(t, produceKey, 9)
	idBatch := func(seq int32, n int) []byte {
		bb := batch.NewBuilder(batch.BuilderOptions{ProducerID: 42, ProducerEpoch: 0, BaseSequence: seq})
		for range n {
			bb.Add(batch.Record{Value: []byte("idempotent")})
		}
		b, err := bb.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := producePartitionResult(t, dataRequest[*kmsg.ProduceResponse](t, cl, produceRequest(9, -1, "events", 0, idBatch(0, 4))))
	retry := producePartitionResult(t, dataRequest[*kmsg.ProduceResponse](t, cl, produceRequest(9, -1, "events", 0, idBatch(0, 4))))
	if first.ErrorCode != 0 || retry.ErrorCode != 0 || retry.BaseOffset != first.BaseOffset {
		t.Errorf("retry of a written batch: first %+v, retry %+v; want the retry acknowledged at the first's offset", first, retry)
	}
	gap := producePartitionResult(t, dataRequest[*kmsg.ProduceResponse](t, cl, produceRequest(9, -1, "events", 0, idBatch(9, 1))))
	if gap.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Errorf("sequence gap: error %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", gap.ErrorCode)
	}
	part, _ := d.b.Partition("events", 0)
	if _, hw, _ := part.Offsets(); hw != 4 {
		t.Errorf("high watermark %d, want 4: the retry must not be written twice", hw)
	}
}

// One request for several partitions of several topics: each lands in its
// own partition, in the response's request order.
func TestProduceSeveralPartitions(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "a", 3)
	d.createTopic(t, "b", 2)
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	for _, topic := range []struct {
		name string
		n    int32
	}{{"a", 3}, {"b", 2}} {
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic.name
		for i := topic.n - 1; i >= 0; i-- {
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition = i
			rp.Records = dataBatch(t, topic.name, int(i)+1, 0)
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp := dataRequest[*kmsg.ProduceResponse](t, d.clientAt(t, produceKey, 9), req)
	for i, rt := range resp.Topics {
		if rt.Topic != req.Topics[i].Topic {
			t.Fatalf("response topic %d is %s, want %s", i, rt.Topic, req.Topics[i].Topic)
		}
		for j, rp := range rt.Partitions {
			want := req.Topics[i].Partitions[j].Partition
			if rp.Partition != want || rp.ErrorCode != 0 || rp.BaseOffset != 0 {
				t.Errorf("%s: slot %d: %+v, want partition %d written at 0", rt.Topic, j, rp, want)
			}
			part, _ := d.b.Partition(rt.Topic, want)
			if _, hw, _ := part.Offsets(); hw != int64(want)+1 {
				t.Errorf("%s-%d: high watermark %d, want %d", rt.Topic, want, hw, want+1)
			}
		}
	}
}
