package window

import (
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// changelogMargin is how much longer than the store a window changelog
// keeps its records (Kafka Streams' windowstore.changelog.additional.
// retention.ms default): changelog records carry the wall-clock time they
// were written, which may run ahead of or behind the windows' event time.
const changelogMargin = 24 * time.Hour

// minSegmentInterval bounds how finely a window store is cut into
// segments: at least a minute each, and about three live at a time.
const minSegmentInterval = int64(60_000)

// Count counts each key's records per window. The table's keys are
// Key[K]: the record key and the window.
func Count[K, V any](g stream.Grouped[K, V], w Windows, opts ...Option) table.Table[Key[K], int64] {
	return build(g, w, serde.Int64, "COUNT",
		func(K, V) int64 { return 1 },
		func(_ K, _ V, n int64) int64 { return n + 1 },
		func(_ K, a, b int64) int64 { return a + b }, opts)
}

// Reduce combines each key's values per window with f, the window's first
// value as it is. For sessions, f also merges the results of two sessions a
// record bridges, so it must be associative. The grouped stream must have a
// value serde.
func Reduce[K, V any](g stream.Grouped[K, V], w Windows, f func(acc, value V) V, opts ...Option) table.Table[Key[K], V] {
	vs := g.Internal().ValueSerde
	if vs == nil {
		g.Internal().B.Fail(fmt.Errorf("window: reduce: the grouped stream has no value serde; give one where its type changed"))
	}
	return build(g, w, vs, "REDUCE",
		func(_ K, v V) V { return v },
		func(_ K, v V, acc V) V { return f(acc, v) },
		func(_ K, a, b V) V { return f(a, b) }, opts)
}

// Aggregate folds each key's records per window into an accumulator,
// starting from init() for each window; as serializes the accumulator.
// Session windows need a merger as well: use AggregateSessions.
func Aggregate[K, V, A any](g stream.Grouped[K, V], w Windows, init func() A, agg func(key K, value V, acc A) A, as serde.Serde[A], opts ...Option) table.Table[Key[K], A] {
	if _, ok := w.(SessionWindows); ok {
		g.Internal().B.Fail(fmt.Errorf("window: aggregate over %v: sessions merge, so they need a merger: use AggregateSessions", w))
	}
	return build(g, w, as, "AGGREGATE",
		func(k K, v V) A { return agg(k, v, init()) }, agg, nil, opts)
}

// AggregateSessions folds each key's records per session, like Aggregate;
// merge combines the accumulators of two sessions that a record bridges
// (the earlier session's first), as Kafka Streams' SessionWindowedKStream
// needs. A record bridging several sessions gives merge(merge(s1, s2), s3)
// and then agg of the record.
func AggregateSessions[K, V, A any](g stream.Grouped[K, V], w SessionWindows, init func() A, agg func(key K, value V, acc A) A,
	merge func(key K, a, b A) A, as serde.Serde[A], opts ...Option) table.Table[Key[K], A] {
	if merge == nil {
		g.Internal().B.Fail(fmt.Errorf("window: aggregate over %v: nil merger", w))
	}
	return build(g, w, as, "AGGREGATE",
		func(k K, v V) A { return agg(k, v, init()) }, agg, merge, opts)
}

// spec is a windowed aggregation as built: shared, read-only, by the
// operators of every task.
type spec[K, V, A any] struct {
	store string
	def   definition
	cfg   config
	ks    serde.Serde[K]
	vs    serde.Serde[V] // nil if the grouped stream has none
	as    serde.Serde[A]
	// first makes a window's accumulator from its first record; add folds
	// a record into one; merge combines two sessions'.
	first    func(K, V) A
	add      func(K, V, A) A
	merge    func(K, A, A) A
	onLate   []func(K, V, int64)
	counter  string // the engine counter of late records
	keySerde *keySerde[K]
}

func build[K, V, A any](g stream.Grouped[K, V], w Windows, as serde.Serde[A], prefix string,
	first func(K, V) A, add func(K, V, A) A, merge func(K, A, A) A, opts []Option) table.Table[Key[K], A] {
	in := g.Internal()
	b := in.B
	c := collect(opts)
	store := b.Name(c.name, "WINDOW-"+prefix)
	fail := func(format string, args ...any) {
		b.Fail(fmt.Errorf("window: %s: "+format, append([]any{store}, args...)...))
	}
	var def definition
	if w == nil {
		fail("no window definition")
	} else {
		def = w.definition()
		if err := def.validate(); err != nil {
			fail("%w", err)
		} else if err := c.resolve(def); err != nil {
			fail("%w", err)
		}
	}
	s := &spec[K, V, A]{store: store, def: def, cfg: c, ks: in.KeySerde, vs: in.ValueSerde, as: as,
		first: first, add: add, merge: merge, counter: lateCounter(store)}
	switch {
	case s.ks == nil:
		fail("the grouped stream has no key serde")
	case as == nil:
		fail("no serde for the aggregate")
	case def.kind == slidingKind && s.vs == nil:
		fail("sliding windows keep the records they may need again, so the grouped stream needs a value serde")
	case c.lateTopic != "" && s.vs == nil:
		fail("LateTo(%s) writes late records with the grouped stream's value serde, which it has none of", c.lateTopic)
	case def.kind == sessionKind && merge == nil:
		fail("sessions need a merger")
	}
	for _, f := range c.late {
		typed, ok := f.(func(K, V, int64))
		if !ok {
			fail("OnLate handler %s does not match the grouped stream's %s", reflect.TypeOf(f), reflect.TypeOf(typed))
			continue
		}
		if typed == nil {
			fail("nil OnLate handler")
			continue
		}
		s.onLate = append(s.onLate, typed)
	}
	s.keySerde = &keySerde[K]{inner: s.ks, store: store, def: def}
	declareStore(b, store, c)
	out := dsl.Then(in, store+"-window", []string{store}, serde.Serde[Key[K]](s.keySerde), as,
		func(tc topology.TaskContext, next dsl.Receiver[Key[K], A]) (dsl.Receiver[K, V], error) {
			o, err := newOperator(tc, next, s)
			if err != nil {
				return nil, err
			}
			return dsl.ReceiverFunc[K, V](o.receive), nil
		})
	// Windowed keys are not the keys the records are partitioned by.
	out.KeyChanged = true
	if c.lateTopic != "" {
		b.Add(&topology.Node{Name: store + "-late", Kind: topology.Sink, Topics: []string{c.lateTopic}}, out.Node)
	}
	return table.Wrap(out)
}

// declareStore declares the window store: segmented by window time, its
// changelog compacted and, past the retention, deleted.
func declareStore(b *dsl.Builder, store string, c config) {
	retention := ms(c.retention)
	changelog := b.InternalTopic(store, "changelog")
	err := b.Topo.AddStore(&topology.StoreSpec{Name: store, Changelog: changelog, InMemory: c.inMemory,
		Segmented: &storage.SegmentedOptions{
			KeyTime:         keyTime,
			RangeTimes:      rangeTimes,
			SegmentInterval: max(retention/2, minSegmentInterval),
			Retention:       retention,
			// Several segments are open at once: small memtables.
			LevelDB: storage.LevelDBOptions{WriteBufferBytes: 1 << 20, BlockCacheBytes: 1 << 20},
		}})
	if err != nil {
		b.Fail(fmt.Errorf("window: %w", err))
		return
	}
	b.Topo.InternalTopics[changelog].Configs = map[string]string{
		"cleanup.policy": "compact,delete",
		"retention.ms":   strconv.FormatInt(retention+changelogMargin.Milliseconds(), 10),
	}
}
