package window

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// ErrNotQueryable is returned by Fetch and LateRecords for a table that is
// not the direct result of Count, Reduce, Aggregate or AggregateSessions (a
// table derived from one by Filter or MapValues has no store of its own).
// It wraps table.ErrNotQueryable.
var ErrNotQueryable = fmt.Errorf("window: %w: query the windowed table the operation returned", table.ErrNotQueryable)

// windowStore finds a windowed table's store and its windows.
func windowStore[K, V any](t table.Table[Key[K], V]) (*keySerde[K], *dsl.Stream[Key[K], V], error) {
	s := t.Internal()
	ks, ok := s.KeySerde.(*keySerde[K])
	if !ok || ks.store == "" || len(s.Node.Stores) != 1 || s.Node.Stores[0] != ks.store {
		return nil, nil, ErrNotQueryable
	}
	return ks, s, nil
}

// Fetch returns a key's windows that overlap [from, to] (Unix
// milliseconds, both included) in a running app, ordered by start: the
// aggregates the task owning the key's partition holds, cached updates
// included, as long as the store retains them (Retention). It is the
// windowed counterpart of table.Lookup.
func Fetch[K, V any](app *stream.App, t table.Table[Key[K], V], key K, from, to int64) ([]stream.KeyValue[Key[K], V], error) {
	ks, s, err := windowStore(t)
	if err != nil {
		return nil, err
	}
	store, def := ks.store, ks.def
	kb, err := ks.inner.Serialize(store, key)
	if err != nil {
		return nil, fmt.Errorf("window %s: key: %w", store, err)
	}
	info, err := app.Internal().StoreInfo(store)
	if err != nil {
		return nil, err
	}
	st, err := app.Store(store, partition.ForKey(kb, info.Partitions))
	if err != nil {
		return nil, err
	}
	// Entries are ordered by T: a window's start, or a session's last
	// record. Time and sliding windows overlapping [from, to] start in
	// (from - length, to]; sessions end at or after from.
	lo, hi := from, to
	switch def.kind {
	case timeKind:
		lo = from - def.size + 1
	case slidingKind:
		lo = from - def.size
	case sessionKind:
		hi = math.MaxInt64
	}
	start, end := timeRange(keyPrefix(tagWindow, kb), lo, hi)
	it, err := st.Range(start, end)
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", store, err)
	}
	defer it.Close()
	var out []stream.KeyValue[Key[K], V]
	for it.Next() {
		sw, err := parseWindowKey(it.Key(), def.kind == sessionKind)
		if err != nil {
			return nil, fmt.Errorf("window %s: %w", store, err)
		}
		ws, we := def.bounds(sw)
		if ws > to || we <= from {
			continue
		}
		_, vb, err := dsl.DecodeTimestamped(it.Value())
		if err != nil {
			return nil, fmt.Errorf("window %s: %w", store, err)
		}
		v, err := s.ValueSerde.Deserialize(store, vb)
		if err != nil {
			return nil, fmt.Errorf("window %s: stored aggregate: %w", store, err)
		}
		out = append(out, stream.KeyValue[Key[K], V]{Key: Key[K]{Key: key, Start: ws, End: we}, Value: v})
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("window %s: %w", store, err)
	}
	slices.SortFunc(out, func(a, b stream.KeyValue[Key[K], V]) int {
		return cmp.Or(cmp.Compare(a.Key.Start, b.Key.Start), cmp.Compare(a.Key.End, b.Key.End))
	})
	return out, nil
}

// LateRecords returns how many late records a windowed aggregation of a
// running app has dropped from some window since the app started, across
// its tasks (each record counts once; see OnLate).
func LateRecords[K, V any](app *stream.App, t table.Table[Key[K], V]) (int64, error) {
	ks, _, err := windowStore(t)
	if err != nil {
		return 0, err
	}
	return app.Internal().Counter(lateCounter(ks.store)).Load(), nil
}

// lateCounter names the engine counter of a window store's late records.
func lateCounter(store string) string { return store + ".late-records" }
