package engine

import (
	"context"
	"fmt"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/storage"
)

// restoreBatch is how many changelog records go into one store write.
const restoreBatch = 10000

// restore brings every changelogged store of the task up to the end of its
// changelog. A checkpoint says how far the local store already is; without
// one the local store may hold writes its changelog lacks, so it is wiped
// and the whole changelog is replayed.
func (t *task) restore(ctx context.Context, cp map[string]int64) error {
	for _, s := range t.stores {
		if s.changelog == "" {
			continue
		}
		from, ok := cp[checkpointKey(s.changelog, t.id.Partition)]
		if !ok || s.inMemory {
			from = broker.Earliest
		}
		n, end, err := t.replay(ctx, s, from)
		if err != nil {
			return err
		}
		s.restored, s.restoredFrom, s.checkpoint = n, from, end
		t.e.cfg.Logger.Info("restored store", "task", t.id, "store", s.name, "from", from, "to", end, "records", n)
	}
	return t.writeCheckpoint()
}

// replay applies the changelog from offset from (or the earliest) to its
// current end to the store's local state, bypassing the cache so nothing is
// sent again. It returns how many records it applied and the end offset.
func (t *task) replay(ctx context.Context, s *taskStore, from int64) (int64, int64, error) {
	c := t.e.cfg.Client
	p := t.id.Partition
	end, err := c.ListOffset(ctx, s.changelog, p, broker.Latest)
	if err != nil {
		return 0, 0, fmt.Errorf("engine: task %s: end of changelog %s-%d: %w", t.id, s.changelog, p, err)
	}
	if from == broker.Earliest {
		if from, err = c.ListOffset(ctx, s.changelog, p, broker.Earliest); err != nil {
			return 0, 0, fmt.Errorf("engine: task %s: start of changelog %s-%d: %w", t.id, s.changelog, p, err)
		}
	}
	inner := s.cached.Inner()
	var n int64
	pending := make([]storage.Mutation, 0, restoreBatch)
	for next := from; next < end; {
		res, err := c.Fetch(ctx, s.changelog, p, next, 4<<20, 0)
		if err != nil {
			return n, 0, fmt.Errorf("engine: task %s: read changelog %s-%d at %d: %w", t.id, s.changelog, p, next, err)
		}
		if len(res.Batches) == 0 {
			break
		}
		last, err := forEachRecord(res.Batches, next, func(key, value []byte) {
			m := storage.Mutation{Key: append([]byte(nil), key...), Delete: value == nil}
			if value != nil {
				m.Value = append([]byte(nil), value...)
			}
			pending = append(pending, m)
			n++
		})
		if err != nil {
			return n, 0, fmt.Errorf("engine: task %s: changelog %s-%d: %w", t.id, s.changelog, p, err)
		}
		if len(pending) >= restoreBatch {
			if err := inner.Apply(pending); err != nil {
				return n, 0, err
			}
			pending = pending[:0]
		}
		next = last + 1
	}
	if len(pending) > 0 {
		if err := inner.Apply(pending); err != nil {
			return n, 0, err
		}
	}
	return n, end, nil
}

// forEachRecord calls fn with the key and value of each record at or after
// from in concatenated batches, returning the last offset the batches cover.
func forEachRecord(data []byte, from int64, fn func(key, value []byte)) (int64, error) {
	last := from - 1
	var it *batch.Iterator
	for len(data) > 0 {
		one, rest, err := batch.Next(data)
		if err != nil {
			return last, err
		}
		if it == nil {
			if it, err = batch.NewIterator(one); err != nil {
				return last, err
			}
		} else if err := it.Reset(one); err != nil {
			return last, err
		}
		for it.Next() {
			r := it.Record()
			if r.Offset >= from {
				fn(r.Key, r.Value)
			}
		}
		if err := it.Err(); err != nil {
			return last, err
		}
		last = max(last, it.Header().LastOffset())
		data = rest
	}
	return last, nil
}

// writeCheckpoint records how far each local store holds its changelog,
// after making the stores durable.
func (t *task) writeCheckpoint() error {
	if t.e.cfg.InMemoryStores {
		return nil
	}
	offsets := map[string]int64{}
	for _, s := range t.stores {
		if s.changelog == "" || s.inMemory {
			continue // a memory store restores from the start anyway; its task may have no directory
		}
		if err := s.cached.Flush(); err != nil {
			return fmt.Errorf("engine: task %s: flush store %s: %w", t.id, s.name, err)
		}
		offsets[checkpointKey(s.changelog, t.id.Partition)] = s.checkpoint
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := storage.WriteCheckpoint(t.checkpointPath(), offsets); err != nil {
		return fmt.Errorf("engine: task %s: %w", t.id, err)
	}
	t.checkpointed = true
	return nil
}
