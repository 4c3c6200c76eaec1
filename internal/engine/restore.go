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
	t.restoreFrom(cp)
	return t.catchUp(ctx, "restored store")
}

// restoreFrom sets where each changelogged store's restore starts: the
// checkpoint's offset, or broker.Earliest for a store that started empty.
func (t *task) restoreFrom(cp map[string]int64) {
	for _, s := range t.stores {
		if s.changelog == "" {
			continue
		}
		from, ok := cp[checkpointKey(s.changelog, t.id.Partition)]
		if !ok || s.inMemory {
			from = broker.Earliest
		}
		s.checkpoint = from
	}
}

// catchUp replays every changelogged store from where it holds its
// changelog up to (its checkpoint offset) to the changelog's end, then
// writes the task's checkpoint. Cut short (ctx ends), it leaves each
// store's checkpoint offset where the store got to, so calling it again
// goes on from there.
func (t *task) catchUp(ctx context.Context, msg string) error {
	for _, s := range t.stores {
		if s.changelog == "" {
			continue
		}
		from := s.checkpoint
		n, err := t.replay(ctx, s)
		if err != nil {
			return err
		}
		s.restored, s.restoredFrom = n, from
		t.e.cfg.Logger.Info(msg, "task", t.id, "store", s.name, "from", from, "to", s.checkpoint, "records", n)
	}
	return t.writeCheckpoint()
}

// replay applies the changelog from the store's checkpoint offset (or the
// earliest) to its current end to the store's local state, bypassing the
// cache so nothing is sent again. The checkpoint offset follows each store
// write, so that it always says how far the store is, even when replay
// fails or ctx ends midway: a standby promoted in the middle of its first
// restore goes on from there. It returns how many records it applied.
func (t *task) replay(ctx context.Context, s *taskStore) (int64, error) {
	c := t.e.cfg.Client
	p := t.id.Partition
	end, err := c.ListOffset(ctx, s.changelog, p, broker.Latest)
	if err != nil {
		return 0, fmt.Errorf("engine: task %s: end of changelog %s-%d: %w", t.id, s.changelog, p, err)
	}
	from := s.checkpoint
	if from == broker.Earliest {
		if from, err = c.ListOffset(ctx, s.changelog, p, broker.Earliest); err != nil {
			return 0, fmt.Errorf("engine: task %s: start of changelog %s-%d: %w", t.id, s.changelog, p, err)
		}
	}
	inner := s.cached.Inner()
	var n int64
	pending := make([]storage.Mutation, 0, restoreBatch)
	apply := func(upTo int64) error {
		if len(pending) > 0 {
			if err := inner.Apply(pending); err != nil {
				return fmt.Errorf("engine: task %s: restore store %s: %w", t.id, s.name, err)
			}
		}
		n += int64(len(pending))
		pending = pending[:0]
		s.checkpoint = upTo
		return nil
	}
	next := from
	for next < end {
		res, err := c.Fetch(ctx, s.changelog, p, next, 4<<20, 0)
		if err != nil {
			return n, fmt.Errorf("engine: task %s: read changelog %s-%d at %d: %w", t.id, s.changelog, p, next, err)
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
		})
		if err != nil {
			return n, fmt.Errorf("engine: task %s: changelog %s-%d: %w", t.id, s.changelog, p, err)
		}
		next = last + 1
		if len(pending) >= restoreBatch {
			if err := apply(next); err != nil {
				return n, err
			}
		}
	}
	if err := apply(max(next, end)); err != nil {
		return n, err
	}
	return n, nil
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
