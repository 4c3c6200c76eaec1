package table

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// folder is one task's instance of a table aggregation (Aggregate, Count,
// Reduce): it folds each record into its key's stored value, through a
// storage.Updater. Keys and values are encoded into reused buffers when
// their serdes are serde.Appenders.
type folder[K, V, A any] struct {
	store, op string
	as        serde.Serde[A]
	keys      *dsl.Encoder[K]
	values    *dsl.Encoder[A]
	step      func(k K, v V, acc A, found bool) A

	upd *storage.Updater
	// foldFn (foldCur, made once so that no call allocates) folds cur,
	// the record being processed.
	foldFn func(old []byte, found bool) ([]byte, error)
	cur    dsl.Record[K, V]
	valBuf []byte
}

func newFolder[K, V, A any](st storage.Store, store, op string, ks serde.Serde[K], as serde.Serde[A],
	step func(k K, v V, acc A, found bool) A) *folder[K, V, A] {
	f := &folder[K, V, A]{store: store, op: op, as: as, keys: dsl.NewEncoder(ks), values: dsl.NewEncoder(as), step: step,
		upd: storage.NewUpdater(st)}
	f.foldFn = f.foldCur
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
	f.cur = r
	err = f.upd.Update(kb, f.foldFn)
	f.cur = dsl.Record[K, V]{}
	return err
}

// foldCur returns the stored value of cur's key once cur is folded into
// old (the stored value, if found). It is built in valBuf.
func (f *folder[K, V, A]) foldCur(old []byte, found bool) ([]byte, error) {
	var acc A
	ts := f.cur.Timestamp
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
	f.valBuf, err = f.values.AppendTo(dsl.AppendTimestamp(f.valBuf[:0], ts), f.store, f.step(f.cur.Key, f.cur.Value, acc, found))
	if err != nil {
		return nil, fmt.Errorf("%s %s: value: %w", f.op, f.store, err)
	}
	return f.valBuf, nil
}
