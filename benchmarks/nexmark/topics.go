package nexmark

import (
	"context"
	"fmt"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
)

// The topics events are written to, one per kind: persons keyed by their
// id, auctions by their id, bids by the auction they are on, each key an
// int64 (8 bytes big endian, Java's LongSerializer) placed by Kafka's
// default partitioner, each value in the binary encoding of PersonSerde,
// AuctionSerde and BidSerde. Three topics rather than Flink's
// single topic of tagged events, so that each query reads only what it
// uses and every record is typed by its topic.
const (
	PersonTopic  = "nexmark-person"
	AuctionTopic = "nexmark-auction"
	BidTopic     = "nexmark-bid"
)

// Writer appends events to the Nexmark topics through a broker.Client,
// batching records per partition. It is not safe for concurrent use.
type Writer struct {
	ctx    context.Context
	client broker.Client
	parts  int32
	open   map[string][]*pendingBatch
	counts Counts
}

// Counts are how many events of each kind were written.
type Counts struct{ Persons, Auctions, Bids int64 }

// Total is the number of events.
func (c Counts) Total() int64 { return c.Persons + c.Auctions + c.Bids }

type pendingBatch struct {
	b     *batch.Builder
	bytes int
}

// Records and bytes after which a partition's batch is appended.
const (
	batchRecords = 4000
	batchBytes   = 512 << 10
)

// NewWriter creates the three topics with partitions partitions each (an
// existing topic must have that many) and returns a writer to them.
func NewWriter(ctx context.Context, client broker.Client, partitions int32) (*Writer, error) {
	if partitions < 1 {
		return nil, fmt.Errorf("nexmark: %d partitions, want >= 1", partitions)
	}
	w := &Writer{ctx: ctx, client: client, parts: partitions, open: map[string][]*pendingBatch{}}
	for _, topic := range []string{PersonTopic, AuctionTopic, BidTopic} {
		if err := client.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: partitions}); err != nil {
			return nil, fmt.Errorf("nexmark: create %s: %w", topic, err)
		}
		w.open[topic] = make([]*pendingBatch, partitions)
		for p := range w.open[topic] {
			w.open[topic][p] = &pendingBatch{b: batch.NewBuilder(batch.BuilderOptions{})}
		}
	}
	return w, nil
}

// Write adds an event to its topic's pending batch, appending the batch
// once it is large enough.
func (w *Writer) Write(ev Event) error {
	var topic string
	var key int64
	var value []byte
	var err error
	switch ev.Kind() {
	case KindPerson:
		topic, key = PersonTopic, ev.Person.ID
		value, err = PersonSerde().Serialize(topic, *ev.Person)
		w.counts.Persons++
	case KindAuction:
		topic, key = AuctionTopic, ev.Auction.ID
		value, err = AuctionSerde().Serialize(topic, *ev.Auction)
		w.counts.Auctions++
	default:
		topic, key = BidTopic, ev.Bid.Auction
		value, err = BidSerde().Serialize(topic, *ev.Bid)
		w.counts.Bids++
	}
	if err != nil {
		return fmt.Errorf("nexmark: event %d: %w", ev.ID, err)
	}
	kb, _ := serde.Int64.Serialize(topic, key)
	p := partition.ForKey(kb, w.parts)
	pb := w.open[topic][p]
	pb.b.Add(batch.Record{Key: kb, Value: value, Timestamp: ev.Timestamp()})
	pb.bytes += len(kb) + len(value) + 16
	if pb.b.Len() >= batchRecords || pb.bytes >= batchBytes {
		return w.append(topic, p)
	}
	return nil
}

func (w *Writer) append(topic string, p int32) error {
	pb := w.open[topic][p]
	data, err := pb.b.Build(nil)
	if err != nil {
		return fmt.Errorf("nexmark: build batch for %s-%d: %w", topic, p, err)
	}
	pb.b.Reset()
	pb.bytes = 0
	if _, err := w.client.Append(w.ctx, topic, p, data); err != nil {
		return fmt.Errorf("nexmark: append to %s-%d: %w", topic, p, err)
	}
	return nil
}

// Flush appends every pending batch; the events written so far are then
// durable.
func (w *Writer) Flush() error {
	for _, topic := range []string{PersonTopic, AuctionTopic, BidTopic} {
		for p, pb := range w.open[topic] {
			if pb.b.Len() > 0 {
				if err := w.append(topic, int32(p)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Counts returns how many events of each kind were written.
func (w *Writer) Counts() Counts { return w.counts }

// Record is one record read back from a topic.
type Record[K, V any] struct {
	Partition int32
	Offset    int64
	Timestamp int64
	Key       K
	Value     V
}

// ReadTopic reads every record of a topic up to its current end, partition
// by partition, in offset order within each.
func ReadTopic[K, V any](ctx context.Context, client broker.Client, topic string, ks serde.Serde[K], vs serde.Serde[V]) ([]Record[K, V], error) {
	n, err := client.Partitions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("nexmark: read %s: %w", topic, err)
	}
	var out []Record[K, V]
	for p := range n {
		start, err := client.ListOffset(ctx, topic, p, broker.Earliest)
		if err != nil {
			return nil, fmt.Errorf("nexmark: read %s-%d: %w", topic, p, err)
		}
		end, err := client.ListOffset(ctx, topic, p, broker.Latest)
		if err != nil {
			return nil, fmt.Errorf("nexmark: read %s-%d: %w", topic, p, err)
		}
		for off := start; off < end; {
			res, err := client.Fetch(ctx, topic, p, off, 4<<20, 0)
			if err != nil {
				return nil, fmt.Errorf("nexmark: read %s-%d at %d: %w", topic, p, off, err)
			}
			if len(res.Batches) == 0 {
				return nil, fmt.Errorf("nexmark: read %s-%d: nothing at offset %d before the end %d", topic, p, off, end)
			}
			for data := res.Batches; len(data) > 0; {
				one, rest, err := batch.Next(data)
				if err != nil {
					return nil, fmt.Errorf("nexmark: read %s-%d at %d: %w", topic, p, off, err)
				}
				data = rest
				it, err := batch.NewIterator(one)
				if err != nil {
					return nil, fmt.Errorf("nexmark: read %s-%d at %d: %w", topic, p, off, err)
				}
				for it.Next() {
					r := it.Record()
					if r.Offset < off {
						continue
					}
					rec := Record[K, V]{Partition: p, Offset: r.Offset, Timestamp: r.Timestamp}
					if rec.Key, err = ks.Deserialize(topic, r.Key); err == nil {
						rec.Value, err = vs.Deserialize(topic, r.Value)
					}
					if err != nil {
						return nil, fmt.Errorf("nexmark: read %s-%d offset %d: %w", topic, p, r.Offset, err)
					}
					out = append(out, rec)
					off = r.Offset + 1
				}
				if err := it.Err(); err != nil {
					return nil, fmt.Errorf("nexmark: read %s-%d at %d: %w", topic, p, off, err)
				}
			}
		}
	}
	return out, nil
}

// ReadOutput reads a query's output topic (int64 keys, encoded values or
// tombstones) up to its current end.
func ReadOutput(ctx context.Context, client broker.Client, topic string) ([]Output, error) {
	recs, err := ReadTopic(ctx, client, topic, serde.Int64, serde.Bytes)
	if err != nil {
		return nil, err
	}
	out := make([]Output, len(recs))
	for i, r := range recs {
		out[i] = Output(r)
	}
	return out, nil
}
