package demo

import (
	"context"
	"fmt"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/serde"
)

// recordsPerBatch is how many generated records go into one append: big
// enough that the fsync of each append costs little per record.
const recordsPerBatch = 2000

// Writer appends records to the partitions of one topic, a batch at a time.
type Writer struct {
	ctx      context.Context
	client   broker.Client
	topic    string
	builders []*batch.Builder
	written  int64
}

// NewWriter returns a Writer for topic, which must exist.
func NewWriter(ctx context.Context, client broker.Client, topic string) (*Writer, error) {
	n, err := client.Partitions(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("demo: writer for %s: %w", topic, err)
	}
	w := &Writer{ctx: ctx, client: client, topic: topic, builders: make([]*batch.Builder, n)}
	for i := range w.builders {
		w.builders[i] = batch.NewBuilder(batch.BuilderOptions{Codec: batch.LZ4})
	}
	return w, nil
}

// Partitions is the topic's partition count.
func (w *Writer) Partitions() int32 { return int32(len(w.builders)) }

// Add queues a record for partition p (key and value are copied),
// appending the partition's batch when it is full.
func (w *Writer) Add(p int32, key, value []byte, timestamp int64) error {
	if p < 0 || int(p) >= len(w.builders) {
		return fmt.Errorf("demo: %s has no partition %d", w.topic, p)
	}
	w.builders[p].Add(batch.Record{Key: key, Value: value, Timestamp: timestamp})
	if w.builders[p].Len() >= recordsPerBatch {
		return w.flush(p)
	}
	return nil
}

// Flush appends every queued record.
func (w *Writer) Flush() error {
	for p := range w.builders {
		if err := w.flush(int32(p)); err != nil {
			return err
		}
	}
	return nil
}

// Written is how many records have been appended.
func (w *Writer) Written() int64 { return w.written }

func (w *Writer) flush(p int32) error {
	b := w.builders[p]
	if b.Len() == 0 {
		return nil
	}
	data, err := b.Build(nil)
	if err != nil {
		return fmt.Errorf("demo: encode batch for %s-%d: %w", w.topic, p, err)
	}
	if _, err := w.client.Append(w.ctx, w.topic, p, data); err != nil {
		return fmt.Errorf("demo: append to %s-%d: %w", w.topic, p, err)
	}
	w.written += int64(b.Len())
	b.Reset()
	return nil
}

// ForEachRecord calls fn with every record of every partition of topic,
// partition by partition in offset order. The record's Key and Value are
// valid only during the call.
func ForEachRecord(ctx context.Context, client broker.Client, topic string, fn func(partition int32, r batch.Record) error) error {
	n, err := client.Partitions(ctx, topic)
	if err != nil {
		return fmt.Errorf("demo: read %s: %w", topic, err)
	}
	for p := range n {
		for next := int64(0); ; {
			res, err := client.Fetch(ctx, topic, p, next, 4<<20, 0)
			if err != nil {
				return fmt.Errorf("demo: read %s-%d at %d: %w", topic, p, next, err)
			}
			if len(res.Batches) == 0 {
				break
			}
			for data := res.Batches; len(data) > 0; {
				one, rest, err := batch.Next(data)
				if err != nil {
					return fmt.Errorf("demo: read %s-%d at %d: %w", topic, p, next, err)
				}
				it, err := batch.NewIterator(one)
				if err != nil {
					return fmt.Errorf("demo: read %s-%d at %d: %w", topic, p, next, err)
				}
				for it.Next() {
					if r := it.Record(); r.Offset >= next {
						if err := fn(p, r); err != nil {
							return err
						}
					}
				}
				if err := it.Err(); err != nil {
					return fmt.Errorf("demo: read %s-%d at %d: %w", topic, p, next, err)
				}
				next = it.Header().LastOffset() + 1
				data = rest
			}
		}
	}
	return nil
}

// LastValues returns the last value of each key in topic, as a compacted
// topic or a table built from it would hold them; a null value deletes
// the key.
func LastValues[V any](ctx context.Context, client broker.Client, topic string, vs serde.Serde[V]) (map[string]V, error) {
	last := map[string]V{}
	err := ForEachRecord(ctx, client, topic, func(p int32, r batch.Record) error {
		if r.Value == nil {
			delete(last, string(r.Key))
			return nil
		}
		v, err := vs.Deserialize(topic, r.Value)
		if err != nil {
			return fmt.Errorf("demo: %s-%d at %d: %w", topic, p, r.Offset, err)
		}
		last[string(r.Key)] = v
		return nil
	})
	return last, err
}
