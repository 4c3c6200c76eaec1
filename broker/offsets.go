package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/group"
)

// offsetsJournal makes the coordinator's state durable in
// __consumer_offsets: each call is one batch, acknowledged after fsync.
type offsetsJournal struct {
	p   *Partition
	now func() time.Time
}

func (j offsetsJournal) Append(ctx context.Context, records []group.JournalRecord) error {
	if len(records) == 0 {
		return nil
	}
	b := batch.NewBuilder(batch.BuilderOptions{})
	ts := j.now().UnixMilli()
	for _, r := range records {
		b.Add(batch.Record{Key: r.Key, Value: r.Value, Timestamp: ts})
	}
	data, err := b.Build(nil)
	if err != nil {
		return fmt.Errorf("broker: encode %d offset records: %w", len(records), err)
	}
	if _, err := j.p.Produce(ctx, data, true); err != nil {
		return fmt.Errorf("broker: append to %s: %w", offsetsTopic, err)
	}
	return nil
}

// replayOffsets feeds every stored __consumer_offsets record to the
// coordinator, in log order, before the broker serves anyone.
func replayOffsets(p *Partition, c *group.Coordinator) error {
	start, hw, _ := p.Offsets()
	var buf []byte
	for next := start; next < hw; {
		data, _, err := p.log.ReadBatches(next, 1<<20, buf[:0])
		if err != nil {
			return fmt.Errorf("broker: replay %s at %d: %w", offsetsTopic, next, err)
		}
		buf = data
		for len(data) > 0 {
			one, rest, err := batch.Next(data)
			if err != nil {
				return fmt.Errorf("broker: replay %s: %w", offsetsTopic, err)
			}
			it, err := batch.NewIterator(one)
			if err != nil {
				return fmt.Errorf("broker: replay %s: %w", offsetsTopic, err)
			}
			for it.Next() {
				r := it.Record()
				if err := c.Replay(r.Key, r.Value); err != nil {
					return fmt.Errorf("broker: replay %s offset %d: %w", offsetsTopic, r.Offset, err)
				}
			}
			if err := it.Err(); err != nil {
				return fmt.Errorf("broker: replay %s: %w", offsetsTopic, err)
			}
			h, _ := batch.ParseHeader(one)
			next = h.LastOffset() + 1
			data = rest
		}
	}
	return nil
}
