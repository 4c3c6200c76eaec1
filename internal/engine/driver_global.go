package engine

import (
	"fmt"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// openGlobals gives the driver the topology's global stores, empty (as
// the app's would be on empty topics), their topics with the partition
// counts the config gives.
func (d *Driver) openGlobals() error {
	if len(d.e.topo.Globals) == 0 {
		return nil
	}
	if d.e.cfg.StateDir != "" && !d.e.cfg.InMemoryStores {
		// No topic to resume from: start the stores empty.
		g := &globals{dir: globalDir(d.e)}
		if err := storage.RemoveCheckpoint(g.checkpointPath()); err != nil {
			return fmt.Errorf("%w: %w", ErrGlobalStore, err)
		}
	}
	g, err := d.e.openGlobals(func(topic string) (int32, error) { return d.configured(topic), nil },
		func(string, int32) (int64, error) { return 0, nil })
	if err != nil {
		return err
	}
	for _, gs := range g.stores {
		d.e.parts.Store(gs.spec.Topic, d.configured(gs.spec.Topic))
	}
	d.e.mu.Lock()
	d.e.globals = g
	d.e.mu.Unlock()
	return nil
}

// globalFor returns the global store reading topic, or nil.
func (d *Driver) globalFor(topic string) *globalStore {
	if d.e.globals == nil {
		return nil
	}
	for _, gs := range d.e.globals.stores {
		if gs.spec.Topic == topic {
			return gs
		}
	}
	return nil
}

// updateGlobal applies a record of a global store's topic at once: the
// driver has no global goroutine, and nothing else waits for the write.
func (d *Driver) updateGlobal(gs *globalStore, r *topology.RawRecord) error {
	m, write, err := d.e.globals.update(gs, r)
	if err != nil || !write {
		return err
	}
	if m.Delete {
		return gs.store.Delete(m.Key)
	}
	return gs.store.Put(m.Key, m.Value)
}

// pipeGlobal is Pipe for a global store's topic.
func (d *Driver) pipeGlobal(gs *globalStore, topic string, key, value []byte, ts int64, headers []batch.RecordHeader) error {
	n, err := d.e.partitions(topic)
	if err != nil {
		return err
	}
	p := int32(0)
	if key != nil {
		p = partition.ForKey(key, n)
	}
	r := topology.RawRecord{Topic: topic, Partition: p, Offset: d.nextOffset(topic, p), Timestamp: ts,
		Key: cloneBytes(key), Value: cloneBytes(value), Headers: cloneHeaders(headers)}
	if err := d.updateGlobal(gs, &r); err != nil {
		return d.fail(err)
	}
	return nil
}
