package interop

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/eddy-streams/eddy/broker/batch"
)

// pcRecordValue is the value of record seq of partition p: consumers parse
// it back to check each partition's order and completeness.
func pcRecordValue(p int32, seq int) string { return fmt.Sprintf("p%d-%d", p, seq) }

func pcParseValue(t *testing.T, v []byte) (int32, int) {
	t.Helper()
	ps, ss, ok := strings.Cut(strings.TrimPrefix(string(v), "p"), "-")
	p, err1 := strconv.Atoi(ps)
	s, err2 := strconv.Atoi(ss)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("record value %q is not one this test wrote", v)
	}
	return int32(p), s
}

// pcLedger checks a consumer sees every partition's records exactly once,
// in order, at consecutive offsets from 0.
type pcLedger struct {
	t    *testing.T
	next map[int32]int // partition → next expected sequence (= offset)
	seen int
}

func newPCLedger(t *testing.T) *pcLedger { return &pcLedger{t: t, next: map[int32]int{}} }

func (l *pcLedger) record(partition int32, offset int64, value []byte) {
	l.t.Helper()
	p, seq := pcParseValue(l.t, value)
	if p != partition {
		l.t.Fatalf("record %q read from partition %d", value, partition)
	}
	if want := l.next[p]; seq != want || offset != int64(want) {
		l.t.Fatalf("partition %d: record %d at offset %d, want record %d at offset %d (lost, duplicated or reordered)", p, seq, offset, want, want)
	}
	l.next[p]++
	l.seen++
}

func (l *pcLedger) check(perPartition map[int32]int) {
	l.t.Helper()
	for p, n := range perPartition {
		if l.next[p] != n {
			l.t.Errorf("partition %d: consumed %d records, want %d", p, l.next[p], n)
		}
	}
}

// pcConsumeKgo reads partitions 0..partitions-1 of topic from the start
// with a direct-partition kgo consumer until want records arrived.
func pcConsumeKgo(t *testing.T, addr, topic string, partitions int32, want int, ledger *pcLedger, opts ...kgo.Opt) {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := range partitions {
		offsets[p] = kgo.NewOffset().AtStart()
	}
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(500 * time.Millisecond)}, opts...)
	cl, err := kgo.NewClient(opts...)
	mustf(t, err, "consumer client")
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ledger.seen < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", ledger.seen, want)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s-%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) { ledger.record(r.Partition, r.Offset, r.Value) })
	}
	if ledger.seen != want {
		t.Fatalf("consumed %d records, want %d", ledger.seen, want)
	}
}

// pcProduceKgo writes n records per partition with an idempotent kgo
// producer at acks=all, in rounds of at most round records so the run
// spans many produce requests, and checks every acknowledgement.
func pcProduceKgo(t *testing.T, cl *kgo.Client, topic string, partitions int32, n, round int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for seq := range n {
		for p := range partitions {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(pcRecordValue(p, seq))})
		}
	}
	for len(recs) > 0 {
		k := min(round, len(recs))
		results := cl.ProduceSync(ctx, recs[:k]...)
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("produce %s: %v", r.Record.Value, r.Err)
			}
			_, seq := pcParseValue(t, r.Record.Value)
			if r.Record.Offset != int64(seq) {
				t.Fatalf("record %s acknowledged at offset %d, want %d", r.Record.Value, r.Record.Offset, seq)
			}
		}
		recs = recs[k:]
	}
}

func pcPerPartition(partitions int32, n int) map[int32]int {
	m := map[int32]int{}
	for p := range partitions {
		m[p] = n
	}
	return m
}

// The default franz-go producer is idempotent with acks=all. Some of its
// produce requests are answered to no one: the broker writes them, the
// connection dies before the acknowledgement, and the client sends the
// same batches again. The broker must recognise every retry, so a
// direct-partition consumer reads each record exactly once, in order.
func TestFranzGoIdempotentProduceWithRetries(t *testing.T) {
	const (
		partitions   = 6
		perPartition = 20_000 / partitions
	)
	pb := pcStartBehindProxy(t)
	pb.tb.createTopic(t, "kgo-events", partitions, nil)
	pb.proxy.dropProduceResponses(3, 9, 17, 26, 33)

	cl, err := kgo.NewClient(kgo.SeedBrokers(pb.proxy.addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	mustf(t, err, "producer client")
	defer cl.Close()
	pcProduceKgo(t, cl, "kgo-events", partitions, perPartition, 500)
	if dropped := pb.proxy.droppedResponses(); dropped != 5 {
		t.Fatalf("only %d produce responses were withheld; the test did not exercise retries", dropped)
	}

	ledger := newPCLedger(t)
	pcConsumeKgo(t, pb.tb.Addr, "kgo-events", partitions, partitions*perPartition, ledger)
	ledger.check(pcPerPartition(partitions, perPartition))
}

// Each compression codec round-trips, and the batches are stored
// compressed as the producer sent them.
func TestFranzGoCompressionCodecs(t *testing.T) {
	tb := startBroker(t, "")
	for _, tc := range []struct {
		codec kgo.CompressionCodec
		want  batch.Codec
	}{
		{kgo.GzipCompression(), batch.Gzip},
		{kgo.SnappyCompression(), batch.Snappy},
		{kgo.Lz4Compression(), batch.LZ4},
		{kgo.ZstdCompression(), batch.Zstd},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			topic := "codec-" + tc.want.String()
			tb.createTopic(t, topic, 2, nil)
			cl, err := kgo.NewClient(kgo.SeedBrokers(tb.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
				kgo.ProducerBatchCompression(tc.codec))
			mustf(t, err, "producer client")
			defer cl.Close()
			pcProduceKgo(t, cl, topic, 2, 500, 1000)

			for p := int32(0); p < 2; p++ {
				part, err := tb.Broker.Partition(topic, p)
				mustf(t, err, "partition %d", p)
				stored, _, err := part.Log().ReadBatches(0, 1<<20, nil)
				mustf(t, err, "read stored batches")
				h, err := batch.ParseHeader(stored)
				mustf(t, err, "stored batch header")
				if h.Codec() != tc.want {
					t.Errorf("partition %d: stored batch compressed with %v, want %v", p, h.Codec(), tc.want)
				}
			}
			ledger := newPCLedger(t)
			pcConsumeKgo(t, tb.Addr, topic, 2, 1000, ledger)
			ledger.check(pcPerPartition(2, 500))
		})
	}
}

// pcSaramaConfig is an idempotent, acks=all sarama producer and consumer
// at the newest protocol version sarama knows.
func pcSaramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.MaxVersion
	cfg.ClientID = "eddy-interop"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Retry.Max = 10
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Net.MaxOpenRequests = 1
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.MaxWaitTime = 500 * time.Millisecond
	return cfg
}

func pcSaramaMessages(topic string, partitions int32, n int) []*sarama.ProducerMessage {
	var msgs []*sarama.ProducerMessage
	for seq := range n {
		for p := range partitions {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Partition: p, Value: sarama.StringEncoder(pcRecordValue(p, seq))})
		}
	}
	return msgs
}

// pcConsumeSarama reads every partition from the oldest offset with
// sarama's partition consumers until want records arrived.
func pcConsumeSarama(t *testing.T, cfg *sarama.Config, addr, topic string, partitions int32, want int, ledger *pcLedger) {
	t.Helper()
	consumer, err := sarama.NewConsumer([]string{addr}, cfg)
	mustf(t, err, "sarama consumer")
	defer consumer.Close()
	messages := make(chan *sarama.ConsumerMessage)
	errs := make(chan error, partitions)
	done := make(chan struct{})
	defer close(done)
	for p := range partitions {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		mustf(t, err, "consume partition %d", p)
		defer pc.AsyncClose()
		go func() {
			for {
				select {
				case m, ok := <-pc.Messages():
					if !ok {
						return
					}
					select {
					case messages <- m:
					case <-done:
						return
					}
				case e, ok := <-pc.Errors():
					if ok {
						errs <- e
					}
				case <-done:
					return
				}
			}
		}()
	}
	deadline := time.After(30 * time.Second)
	for ledger.seen < want {
		select {
		case m := <-messages:
			ledger.record(m.Partition, m.Offset, m.Value)
		case err := <-errs:
			t.Fatalf("sarama consumer: %v", err)
		case <-deadline:
			t.Fatalf("sarama consumed %d of %d records before the deadline", ledger.seen, want)
		}
	}
}

func TestSaramaSyncProducerAndConsumer(t *testing.T) {
	const partitions, perPartition = 4, 10_000 / 4
	tb := startBroker(t, "")
	tb.createTopic(t, "sarama-sync", partitions, nil)

	producer, err := sarama.NewSyncProducer([]string{tb.Addr}, pcSaramaConfig())
	mustf(t, err, "sarama sync producer")
	msgs := pcSaramaMessages("sarama-sync", partitions, perPartition)
	// SendMessages sends one batch of many; SendMessage one at a time.
	const oneByOne = 200
	for _, m := range msgs[:oneByOne] {
		_, offset, err := producer.SendMessage(m)
		mustf(t, err, "send %v", m.Value)
		if _, seq := pcParseValue(t, []byte(m.Value.(sarama.StringEncoder))); offset != int64(seq) {
			t.Fatalf("message %s acknowledged at offset %d", m.Value, offset)
		}
	}
	for rest := msgs[oneByOne:]; len(rest) > 0; {
		k := min(1000, len(rest))
		mustf(t, producer.SendMessages(rest[:k]), "send %d messages", k)
		for _, m := range rest[:k] {
			if _, seq := pcParseValue(t, []byte(m.Value.(sarama.StringEncoder))); m.Offset != int64(seq) {
				t.Fatalf("message %s acknowledged at offset %d", m.Value, m.Offset)
			}
		}
		rest = rest[k:]
	}
	mustf(t, producer.Close(), "close sync producer")

	ledger := newPCLedger(t)
	pcConsumeSarama(t, pcSaramaConfig(), tb.Addr, "sarama-sync", partitions, partitions*perPartition, ledger)
	ledger.check(pcPerPartition(partitions, perPartition))

	// Kafka 2.1's Fetch (v10) predates flexible versions: the records'
	// length prefix is an int32 rather than a uvarint.
	old := pcSaramaConfig()
	old.Version = sarama.V2_1_0_0
	ledger = newPCLedger(t)
	pcConsumeSarama(t, old, tb.Addr, "sarama-sync", partitions, partitions*perPartition, ledger)
	ledger.check(pcPerPartition(partitions, perPartition))
}

func TestSaramaAsyncProducerAndConsumer(t *testing.T) {
	const partitions, perPartition = 5, 10_000 / 5
	tb := startBroker(t, "")
	tb.createTopic(t, "sarama-async", partitions, nil)

	producer, err := sarama.NewAsyncProducer([]string{tb.Addr}, pcSaramaConfig())
	mustf(t, err, "sarama async producer")
	msgs := pcSaramaMessages("sarama-async", partitions, perPartition)
	acked := make(chan error, 1)
	go func() {
		for range msgs {
			select {
			case m := <-producer.Successes():
				_, seq := pcParseValue(t, []byte(m.Value.(sarama.StringEncoder)))
				if m.Offset != int64(seq) {
					acked <- fmt.Errorf("message %s acknowledged at offset %d", m.Value, m.Offset)
					return
				}
			case perr := <-producer.Errors():
				acked <- fmt.Errorf("async produce: %w", perr)
				return
			case <-time.After(30 * time.Second):
				acked <- fmt.Errorf("acknowledgements stopped arriving")
				return
			}
		}
		acked <- nil
	}()
	for _, m := range msgs {
		producer.Input() <- m
	}
	mustf(t, <-acked, "acknowledgements")
	mustf(t, producer.Close(), "close async producer")

	ledger := newPCLedger(t)
	pcConsumeSarama(t, pcSaramaConfig(), tb.Addr, "sarama-async", partitions, partitions*perPartition, ledger)
	ledger.check(pcPerPartition(partitions, perPartition))
}

// Everything acknowledged with acks=all is there after a restart, for
// franz-go and sarama consumers alike, and producing carries on after it.
func TestProduceRestartConsume(t *testing.T) {
	const partitions = 3
	tb := startBroker(t, "")
	tb.createTopic(t, "durable", partitions, nil)
	produce := func(first, n int) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(tb.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		mustf(t, err, "producer client")
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var recs []*kgo.Record
		for seq := first; seq < first+n; seq++ {
			for p := range int32(partitions) {
				recs = append(recs, &kgo.Record{Topic: "durable", Partition: p, Value: []byte(pcRecordValue(p, seq))})
			}
		}
		mustf(t, cl.ProduceSync(ctx, recs...).FirstErr(), "produce %d..%d", first, first+n)
	}
	produce(0, 1000)
	tb.Restart(t)
	produce(1000, 500)

	ledger := newPCLedger(t)
	pcConsumeKgo(t, tb.Addr, "durable", partitions, partitions*1500, ledger)
	ledger.check(pcPerPartition(partitions, 1500))
	// Kafka 2.4's Fetch (v11): not flexible, and without topic ids.
	ledger = newPCLedger(t)
	pcConsumeKgo(t, tb.Addr, "durable", partitions, partitions*1500, ledger, kgo.MaxVersions(kversion.V2_4_0()))
	ledger.check(pcPerPartition(partitions, 1500))

	tb.Restart(t)
	ledger = newPCLedger(t)
	pcConsumeSarama(t, pcSaramaConfig(), tb.Addr, "durable", partitions, partitions*1500, ledger)
	ledger.check(pcPerPartition(partitions, 1500))
}
