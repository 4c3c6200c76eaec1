package streamtest

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// TableValue returns a key's current value in a materialized table (one
// made by table.From, Count, Reduce or Aggregate), pending cache updates
// included: what table.Lookup returns in a running app. Tables derived by
// Filter or MapValues have no store: query the table they came from.
func TableValue[K, V any](d *Driver, t table.Table[K, V], key K) (V, bool, error) {
	return table.Lookup(d.app, t, key)
}

// TableContents returns every entry of a materialized table, across its
// partitions, ordered by serialized key.
func TableContents[K, V any](d *Driver, t table.Table[K, V]) ([]stream.KeyValue[K, V], error) {
	s := t.Internal()
	if s.Store == "" {
		return nil, fmt.Errorf("streamtest: %w: query the table it was derived from", table.ErrNotQueryable)
	}
	info, err := d.app.Internal().StoreInfo(s.Store)
	if err != nil {
		return nil, fmt.Errorf("streamtest: table %s: %w", s.Store, err)
	}
	type entry struct {
		key []byte
		kv  stream.KeyValue[K, V]
	}
	var entries []entry
	for p := range info.Partitions {
		st, err := d.app.Store(s.Store, p)
		if err != nil {
			return nil, fmt.Errorf("streamtest: table %s: %w", s.Store, err)
		}
		it, err := st.Range(nil, nil)
		if err != nil {
			return nil, fmt.Errorf("streamtest: table %s partition %d: %w", s.Store, p, err)
		}
		for it.Next() {
			k, err := s.KeySerde.Deserialize(s.Store, it.Key())
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("streamtest: table %s: stored key: %w", s.Store, err)
			}
			_, vb, err := dsl.DecodeTimestamped(it.Value())
			if err == nil {
				var v V
				if v, err = s.ValueSerde.Deserialize(s.Store, vb); err == nil {
					entries = append(entries, entry{key: bytes.Clone(it.Key()), kv: stream.KeyValue[K, V]{Key: k, Value: v}})
				}
			}
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("streamtest: table %s: stored value: %w", s.Store, err)
			}
		}
		err = it.Err()
		it.Close()
		if err != nil {
			return nil, fmt.Errorf("streamtest: table %s partition %d: %w", s.Store, p, err)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.key, b.key) })
	out := make([]stream.KeyValue[K, V], len(entries))
	for i, e := range entries {
		out[i] = e.kv
	}
	return out, nil
}
