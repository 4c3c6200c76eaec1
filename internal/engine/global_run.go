package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// bootstrap reads every partition of every global topic up to the end it
// has now, before any task starts.
func (g *globals) bootstrap(ctx context.Context) error {
	c := g.e.cfg.Client
	for _, gs := range g.stores {
		var n int64
		for _, in := range gs.inputs {
			end, err := c.ListOffset(ctx, in.topic, in.partition, broker.Latest)
			if err != nil {
				return fmt.Errorf("%w %s: end of %s-%d: %w", ErrGlobalStore, gs.spec.Name, in.topic, in.partition, err)
			}
			for in.next < end {
				res, err := c.Fetch(ctx, in.topic, in.partition, in.next, g.e.cfg.FetchMaxBytes, 0)
				if err != nil {
					return fmt.Errorf("%w %s: read %s-%d at %d: %w", ErrGlobalStore, gs.spec.Name, in.topic, in.partition, in.next, err)
				}
				if len(res.Batches) == 0 {
					break
				}
				last, err := lastOffset(res.Batches)
				if err != nil {
					return fmt.Errorf("%w %s: %s-%d at %d: %w", ErrGlobalStore, gs.spec.Name, in.topic, in.partition, in.next, err)
				}
				in.chunks <- res.Batches
				applied, err := g.drain(gs, in)
				if err != nil {
					return err
				}
				n += int64(applied)
				// Records compaction removed leave offsets no record has.
				in.next = max(in.next, last+1)
			}
		}
		g.e.cfg.Logger.Info("bootstrapped global store", "store", gs.spec.Name, "topic", gs.spec.Topic, "records", n)
	}
	return g.checkpoint()
}

// drain applies the records buffered for one input, in one store write.
func (g *globals) drain(gs *globalStore, in *input) (int, error) {
	var ms []storage.Mutation
	for {
		ok, err := in.peek()
		if err != nil {
			return 0, &ProcessingError{Topic: in.topic, Partition: in.partition, Offset: in.next, Err: fmt.Errorf("undecodable batch: %w", err)}
		}
		if !ok {
			break
		}
		m, write, err := g.update(gs, &in.cur)
		if err != nil {
			return 0, err
		}
		if write {
			ms = append(ms, m)
		}
		in.has = false
		in.next = in.cur.Offset + 1
	}
	if len(ms) == 0 {
		return 0, nil
	}
	if err := gs.store.Apply(ms); err != nil {
		return 0, fmt.Errorf("%w %s: %w", ErrGlobalStore, gs.spec.Name, err)
	}
	return len(ms), nil
}

// update returns the write a record makes to a global store, applying the
// error policies to a record the store's update function refuses (or
// panics on): the error it returns is one that stops the app.
func (g *globals) update(gs *globalStore, r *topology.RawRecord) (m storage.Mutation, write bool, err error) {
	err = callSafely(func() (err error) {
		m, write, err = gs.spec.Update(r)
		return err
	})
	if err != nil {
		return m, false, g.bad(gs, r, err)
	}
	return m, write, nil
}

// bad applies the error policies to a record the store's update refused,
// as tasks do; a dead letter is appended at once (the global goroutine has
// no producer).
func (g *globals) bad(gs *globalStore, r *topology.RawRecord, err error) error {
	e := g.e
	var de *topology.DeserializeError
	policy, kind := e.cfg.OnProcessingError, "processing"
	if errors.As(err, &de) {
		policy, kind = e.cfg.OnDeserializeError, "deserialization"
	}
	e.errorCount.Add(1)
	perr := &ProcessingError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Err: err}
	switch policy.Kind {
	case LogAndContinue:
		e.cfg.Logger.Warn("skipping record", "kind", kind, "global store", gs.spec.Name, "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		return nil
	case DeadLetter:
		if serr := g.deadLetter(policy.Topic, r, kind, err); serr != nil {
			return fmt.Errorf("%w %s: dead-letter %v: %w", ErrGlobalStore, gs.spec.Name, perr, serr)
		}
		return nil
	}
	return fmt.Errorf("%w %s: %s error (policy: fail): %w", ErrGlobalStore, gs.spec.Name, kind, perr)
}

func (g *globals) deadLetter(topic string, r *topology.RawRecord, kind string, err error) error {
	n, perr := g.e.partitions(topic)
	if perr != nil {
		return perr
	}
	p := int32(0)
	if r.Key != nil {
		p = partitionForKey(r.Key, n)
	}
	b := batch.NewBuilder(batch.BuilderOptions{})
	b.Add(batch.Record{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: append(append([]batch.RecordHeader(nil), r.Headers...),
		batch.RecordHeader{Key: "eddy.error.kind", Value: []byte(kind)},
		batch.RecordHeader{Key: "eddy.error", Value: []byte(err.Error())},
		batch.RecordHeader{Key: "eddy.topic", Value: []byte(r.Topic)},
		batch.RecordHeader{Key: "eddy.partition", Value: fmt.Appendf(nil, "%d", r.Partition)},
		batch.RecordHeader{Key: "eddy.offset", Value: fmt.Appendf(nil, "%d", r.Offset)})})
	data, berr := b.Build(nil)
	if berr != nil {
		return berr
	}
	_, aerr := g.e.cfg.Client.Append(context.Background(), topic, p, data)
	return aerr
}

// start runs the stores' updates in a goroutine until ctx ends; a failure
// calls stop (which stops the app). wait returns run's error once it has
// returned; it may be called more than once.
func (g *globals) start(ctx context.Context, stop func()) (wait func() error) {
	if g == nil {
		return func() error { return nil }
	}
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		if err = g.run(ctx); err != nil {
			stop()
		}
	}()
	return func() error {
		<-done
		return err
	}
}

// run keeps the stores up to date until ctx ends, checkpointing every
// commit interval and once more at the end.
func (g *globals) run(ctx context.Context) error {
	fctx, cancel := context.WithCancel(ctx)
	var fetchers sync.WaitGroup
	defer fetchers.Wait()
	defer cancel()
	for _, gs := range g.stores {
		for _, in := range gs.inputs {
			fetchers.Add(1)
			go func() {
				defer fetchers.Done()
				fetch(fctx, g.e.cfg.Client, in, in.next, g.e.cfg.FetchMaxBytes, g.e.cfg.PollWait, g.notify,
					func(msg string, args ...any) { g.e.cfg.Logger.Warn(msg, args...) })
			}()
		}
	}
	next := g.e.cfg.Now().Add(g.e.cfg.CommitInterval)
	for {
		applied := 0
		for _, gs := range g.stores {
			for _, in := range gs.inputs {
				n, err := g.drain(gs, in)
				if err != nil {
					return err
				}
				applied += n
			}
		}
		if !g.e.cfg.Now().Before(next) {
			if err := g.checkpoint(); err != nil {
				return err
			}
			next = g.e.cfg.Now().Add(g.e.cfg.CommitInterval)
		}
		if applied > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return g.checkpoint()
		case <-g.notify:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// checkpoint makes the LevelDB stores durable and records how far they
// hold their topics. Re-applying records past a checkpoint gives the same
// store, so unlike a task's a stale checkpoint is harmless.
func (g *globals) checkpoint() error {
	if g.dir == "" {
		return nil
	}
	offsets := map[string]int64{}
	for _, gs := range g.stores {
		if gs.spec.InMemory {
			continue
		}
		if err := gs.store.Flush(); err != nil {
			return fmt.Errorf("%w %s: %w", ErrGlobalStore, gs.spec.Name, err)
		}
		for _, in := range gs.inputs {
			offsets[checkpointKey(in.topic, in.partition)] = in.next
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return fmt.Errorf("%w: %w", ErrGlobalStore, err)
	}
	if err := storage.WriteCheckpoint(g.checkpointPath(), offsets); err != nil {
		return fmt.Errorf("%w: %w", ErrGlobalStore, err)
	}
	return nil
}
