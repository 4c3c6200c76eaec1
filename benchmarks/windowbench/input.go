package main

import (
	"context"
	"fmt"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
)

// base is the event time of the first record: a fixed minute boundary, so
// every run has the same windows.
const base int64 = 1_767_225_600_000 // 2026-01-01T00:00:00Z

// input describes the events: record i has key i%keys (spread over the
// partitions by Kafka's default partitioner) and timestamp base +
// i*1000/perSecond, so every partition is in event-time order.
type input struct {
	records, keys, perSecond int
	parts                    int32
}

func (in input) key(i int) string { return fmt.Sprintf("key-%07d", i%in.keys) }

func (in input) timestamp(i int) int64 { return base + int64(i)*1000/int64(in.perSecond) }

// write appends the events to topic through c, in batches of up to 2,000
// records per partition.
func (in input) write(ctx context.Context, c broker.Client, topic string) error {
	builders := make([]*batch.Builder, in.parts)
	for i := range builders {
		builders[i] = batch.NewBuilder(batch.BuilderOptions{})
	}
	value := []byte("click:/products/42?ref=campaign-7&device=mobile&session=3f9a")
	flush := func(p int32) error {
		data, err := builders[p].Build(nil)
		if err != nil {
			return err
		}
		builders[p].Reset()
		if _, err := c.Append(ctx, topic, p, data); err != nil {
			return fmt.Errorf("append to %s/%d: %w", topic, p, err)
		}
		return nil
	}
	for i := range in.records {
		key := []byte(in.key(i))
		p := partition.ForKey(key, in.parts)
		builders[p].Add(batch.Record{Key: key, Value: value, Timestamp: in.timestamp(i)})
		if builders[p].Len() == 2000 {
			if err := flush(p); err != nil {
				return err
			}
		}
	}
	for p := range in.parts {
		if builders[p].Len() > 0 {
			if err := flush(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// expected counts key k's records per window start, for windows of size
// advancing by advance (milliseconds), computed directly from the events.
func (in input) expected(k int, size, advance int64) map[int64]int64 {
	want := map[int64]int64{}
	for i := k; i < in.records; i += in.keys {
		t := in.timestamp(i)
		for s := t - t%advance; s > t-size && s >= 0; s -= advance {
			want[s]++
		}
	}
	return want
}
