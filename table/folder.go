package table

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// folder is one task's instance of a table aggregation (Aggregate, Count,
// Reduce): it folds each record into its key's stored value.
//
// A key updated since the last flush is folded in the store's cache in one
// step (storage.DirtyUpdater); otherwise the value is read into a reused
// buffer and written back. Keys and values are encoded into reused buffers
// when their serdes are serde.Appenders.
type folder[K, V, A any] struct {
	st        storage.Store
	store, op string
	as        serde.Serde[A]
	keys      *dsl.Encoder[K]
	values    *dsl.Encoder[A]
	step      func(k K, v V, acc A, found bool) A

	bufGet  storage.BufferedGetter
	dirtyUp storage.DirtyUpdater
	// foldDirty folds cur, the record being processed, into a cached
	// value; made once so that no call allocates.
	foldDirty      func(old []byte) ([]byte, error)
	cur            dsl.Record[K, V]
	getBuf, valBuf []byte
}

func newFolder[K, V, A any](st storage.Store, store, op string, ks serde.Serde[K], as serde.Serde[A],
	step func(k K, v V, acc A, found bool) A) *folder[K, V, A] {
	f := &folder[K, V, A]{st: st, store: store, op: op, as: as, keys: dsl.NewEncoder(ks), values: dsl.NewEncoder(as), step: step}
	f.bufGet, _ = st.(storage.BufferedGetter)
	f.dirtyUp, _ = st.(storage.DirtyUpdater)
	f.foldDirty = func(old []byte) ([]byte, error) { return f.fold(f.cur, old, true) }
	return f
}

// Receive folds one record into its key's value.
func (f *folder[K, V, A]) Receive(r dsl.Record[K, V]) error {
	if r.Tombstone {
		return nil // as Kafka Streams: null values do not aggregate
	}
	kb, err := f.keys.Encode(f.store, r.Key)
	if err != nil {
		return fmt.Errorf("%s %s: key: %w", f.op, f.store, err)
	}
	if f.dirtyUp != nil {
		f.cur = r
		done, err := f.dirtyUp.UpdateDirty(kb, f.foldDirty)
		f.cur = dsl.Record[K, V]{}
		if done || err != nil {
			return err
		}
	}
	var old []byte
	var found bool
	if f.bufGet != nil {
		// The value is decoded before the next read: one buffer will do.
		if old, found, err = f.bufGet.GetInto(kb, f.getBuf[:0]); found {
			f.getBuf = old
		}
	} else {
		old, found, err = f.st.Get(kb)
	}
	if err != nil {
		return err
	}
	v, err := f.fold(r, old, found)
	if err != nil {
		return err
	}
	return f.st.Put(kb, v)
}

// fold returns the stored value of r's key once r is folded into old (the
// stored value, if found). It is built in valBuf.
func (f *folder[K, V, A]) fold(r dsl.Record[K, V], old []byte, found bool) ([]byte, error) {
	var acc A
	ts := r.Timestamp
	if found {
		ots, vb, err := dsl.DecodeTimestamped(old)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", f.op, f.store, err)
		}
		if acc, err = f.as.Deserialize(f.store, vb); err != nil {
			return nil, fmt.Errorf("%s %s: stored value: %w", f.op, f.store, err)
		}
		ts = max(ts, ots)
	}
	var err error
	f.valBuf, err = f.values.AppendTo(dsl.AppendTimestamp(f.valBuf[:0], ts), f.store, f.step(r.Key, r.Value, acc, found))
	if err != nil {
		return nil, fmt.Errorf("%s %s: value: %w", f.op, f.store, err)
	}
	return f.valBuf, nil
}
