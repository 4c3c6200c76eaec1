package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker/log"
)

// Client is what eddy's stream runtime needs from a partitioned log,
// whichever broker supplies it: the embedded broker in process (Embedded),
// or a Kafka cluster through sarama (package broker/kafka). Like
// database/sql's driver interfaces it is small and batch-oriented: records
// travel as encoded RecordBatch v2 bytes (package batch builds and reads
// them), so neither implementation re-encodes on the hot path.
//
// Group membership is an optional extra, GroupCapable.
type Client interface {
	// CreateTopics creates topics; a topic that already exists with the
	// same partition count is not an error.
	CreateTopics(ctx context.Context, topics ...TopicSpec) error
	// Partitions returns a topic's partition count (ErrUnknownTopic if it
	// does not exist).
	Partitions(ctx context.Context, topic string) (int32, error)
	// Append writes batches to a partition and returns the first offset
	// once they are durable (acks=all). It does not keep batches after it
	// returns: the caller may reuse the buffer.
	Append(ctx context.Context, topic string, partition int32, batches []byte) (int64, error)
	// Fetch returns whole batches from offset, waiting up to maxWait for
	// data when there is none yet. The returned bytes are the caller's.
	Fetch(ctx context.Context, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error)
	// ListOffset returns the earliest (Earliest), latest (Latest) or first
	// offset at or after a timestamp.
	ListOffset(ctx context.Context, topic string, partition int32, timestamp int64) (int64, error)
	// CommitOffsets stores a group's offsets durably.
	CommitOffsets(ctx context.Context, group string, offsets []TopicPartitionOffset) error
	// CommittedOffsets returns a group's committed offsets for partitions
	// (-1 where none is committed).
	CommittedOffsets(ctx context.Context, group string, partitions []TopicPartition) ([]TopicPartitionOffset, error)
	// Close releases the client (not the broker behind it).
	Close() error
}

// GroupCapable is implemented by Clients through which several instances
// of an application can share its work: the stream engine joins a
// consumer group named after the application id through the returned
// requestor, and splits its tasks with the other members. Like
// database/sql's optional driver interfaces, the engine finds it with a
// type assertion; a Client without it runs every task in one instance.
type GroupCapable interface {
	// GroupRequestor returns a requestor that sends the group APIs
	// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, and OffsetCommit, so
	// that offsets are committed in a generation's name) to the group's
	// coordinator. clientID names the member in the coordinator's view.
	// Requests may block as long as the protocol lets them (a JoinGroup
	// up to its rebalance timeout).
	GroupRequestor(clientID string) kmsg.Requestor
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// TopicPartitionOffset is a committed offset: the next offset to consume.
type TopicPartitionOffset struct {
	TopicPartition
	Offset   int64
	Metadata string
}

// FetchResult holds fetched batches and the partition's bounds.
type FetchResult struct {
	Batches        []byte
	HighWatermark  int64
	LogStartOffset int64
}

// DeferredAppender is implemented by clients whose appends can return
// before the data is durable (the embedded client): AppendNoWait is Append
// without waiting for the fsync, and AwaitDurable returns once the
// partition is durable up to end (the offset after the last record that
// must be), or with the error that stopped it. Under the broker's default
// sync policy records become readable (by Fetch; see WrittenFetcher) only
// once durable either way; what changes is that the writer need not wait
// for each fsync before sending more. The stream engine appends so and
// awaits durability at its commits, before committing the input offsets.
type DeferredAppender interface {
	AppendNoWait(ctx context.Context, topic string, partition int32, batches []byte) (int64, error)
	AwaitDurable(ctx context.Context, topic string, partition int32, end int64) error
}

var _ DeferredAppender = embedded{}

// BufferedFetcher is implemented by clients that can fetch into a buffer
// the caller reuses (the embedded client): FetchInto is Fetch with the
// batches appended to dst.
type BufferedFetcher interface {
	FetchInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error)
}

var _ BufferedFetcher = embedded{}

// WrittenFetcher is implemented by clients that can read records before
// they are durable (the embedded client): FetchWrittenInto is FetchInto
// reading up to the end of what is written rather than the high
// watermark, which HighWatermark then reports. What it returns can still be
// lost to a machine crash, so a reader must not commit a position, nor
// act on what it read in any other way that outlives a crash, before
// AwaitDurable (DeferredAppender) has returned for that position. The
// stream engine reads its repartition topics so: a record crosses from one
// sub-topology to the next without waiting for an fsync, and the commit
// waits for it instead.
type WrittenFetcher interface {
	FetchWrittenInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error)
}

var _ WrittenFetcher = embedded{}

// Embedded returns a Client that calls the broker directly, without TCP.
func (b *Broker) Embedded() Client { return embedded{b} }

type embedded struct{ b *Broker }

var _ Client = embedded{}

// SharedEmbedded returns a Client like Embedded that is also GroupCapable:
// an app using it joins a consumer group named after its application id,
// so that several instances — engines in this process, or processes
// reaching this broker over the Kafka protocol — split the app's tasks.
// An app on Embedded's Client owns every task itself and skips the group
// (and the coordinator's initial rebalance delay).
func (b *Broker) SharedEmbedded() Client { return sharedEmbedded{embedded{b}} }

type sharedEmbedded struct{ embedded }

var _ GroupCapable = sharedEmbedded{}

// GroupRequestor answers group requests from the broker's coordinator in
// process.
func (s sharedEmbedded) GroupRequestor(clientID string) kmsg.Requestor {
	return s.b.GroupRequestor(clientID)
}

func (e embedded) CreateTopics(ctx context.Context, topics ...TopicSpec) error {
	var errs []error
	for _, t := range topics {
		err := e.b.CreateTopic(ctx, t, false)
		if errors.Is(err, ErrTopicExists) {
			info, _ := e.b.Topic(t.Name)
			if t.Partitions <= 0 || info.Partitions == t.Partitions {
				continue
			}
			err = fmt.Errorf("%w: %s has %d partitions, %d wanted", ErrInvalidPartitions, t.Name, info.Partitions, t.Partitions)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (e embedded) Partitions(_ context.Context, topic string) (int32, error) {
	info, ok := e.b.Topic(topic)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownTopic, topic)
	}
	return info.Partitions, nil
}

func (e embedded) Append(ctx context.Context, topic string, partition int32, batches []byte) (int64, error) {
	return e.append(ctx, topic, partition, batches, true)
}

func (e embedded) AppendNoWait(ctx context.Context, topic string, partition int32, batches []byte) (int64, error) {
	return e.append(ctx, topic, partition, batches, false)
}

func (e embedded) append(ctx context.Context, topic string, partition int32, batches []byte, durable bool) (int64, error) {
	p, err := e.b.Partition(topic, partition)
	if err != nil {
		return 0, err
	}
	if p.Topic == offsetsTopic {
		return 0, fmt.Errorf("%w: %s is written by the group coordinator only", ErrInvalidTopic, offsetsTopic)
	}
	res, err := p.Produce(ctx, batches, durable)
	return res.BaseOffset, err
}

func (e embedded) AwaitDurable(_ context.Context, topic string, partition int32, end int64) error {
	p, err := e.b.Partition(topic, partition)
	if err != nil {
		return err
	}
	return p.AwaitDurable(end)
}

func (e embedded) Fetch(ctx context.Context, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error) {
	return e.FetchInto(ctx, nil, topic, partition, offset, maxBytes, maxWait)
}

func (e embedded) FetchInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error) {
	return e.fetchInto(ctx, dst, topic, partition, offset, maxBytes, maxWait, false)
}

func (e embedded) FetchWrittenInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (FetchResult, error) {
	return e.fetchInto(ctx, dst, topic, partition, offset, maxBytes, maxWait, true)
}

func (e embedded) fetchInto(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration, written bool) (FetchResult, error) {
	p, err := e.b.Partition(topic, partition)
	if err != nil {
		return FetchResult{}, err
	}
	wait, read := p.log.WaitFor, p.log.ReadBatches
	if written {
		wait, read = p.log.WaitForWritten, p.log.ReadWritten
	}
	if maxWait > 0 {
		wctx, cancel := context.WithTimeout(ctx, maxWait)
		err := wait(wctx, offset)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			if ctx.Err() != nil {
				return FetchResult{}, ctx.Err()
			}
			if !errors.Is(err, log.ErrClosed) {
				return FetchResult{}, err
			}
		}
	}
	data, res, err := read(offset, maxBytes, dst)
	return FetchResult{Batches: data, HighWatermark: res.HighWatermark, LogStartOffset: res.LogStartOffset}, err
}

func (e embedded) ListOffset(_ context.Context, topic string, partition int32, timestamp int64) (int64, error) {
	p, err := e.b.Partition(topic, partition)
	if err != nil {
		return 0, err
	}
	off, _, err := p.ListOffset(timestamp)
	return off, err
}

func (e embedded) CommitOffsets(ctx context.Context, group string, offsets []TopicPartitionOffset) error {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group = group
	req.Generation = -1
	byTopic := map[string]int{}
	for _, o := range offsets {
		i, ok := byTopic[o.Topic]
		if !ok {
			t := kmsg.NewOffsetCommitRequestTopic()
			t.Topic = o.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[o.Topic] = i
		}
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset = o.Partition, o.Offset
		md := o.Metadata
		p.Metadata = &md
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	resp := e.b.groups.OffsetCommit(ctx, req)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return fmt.Errorf("broker: commit %s-%d for group %s: %w", t.Topic, p.Partition, group, kerrFor(p.ErrorCode))
			}
		}
	}
	return nil
}

func (e embedded) CommittedOffsets(_ context.Context, group string, partitions []TopicPartition) ([]TopicPartitionOffset, error) {
	out := make([]TopicPartitionOffset, 0, len(partitions))
	for _, tp := range partitions {
		off, md, ok := e.b.groups.Committed(group, tp.Topic, tp.Partition)
		if !ok {
			off = -1
		}
		out = append(out, TopicPartitionOffset{TopicPartition: tp, Offset: off, Metadata: md})
	}
	return out, nil
}

func (embedded) Close() error { return nil }
