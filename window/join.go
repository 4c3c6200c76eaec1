package window

import (
	"fmt"
	"reflect"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// Join joins two streams over a join window (an inner join, Kafka Streams'
// KStream.join with JoinWindows): each record of left meets every record
// of right with the same key whose timestamp is within w of its own
// (right timestamps in [t - before, t + after] for a left record at t),
// and each such pair produces joiner(key, leftValue, rightValue) once,
// when the second of the two arrives. The result keeps the key, takes the
// larger of the two timestamps and the headers of the record that
// completed the pair; vs serializes the joined values (nil if the result
// is only written with explicit serdes).
//
// # Time, closing and late records
//
// The join's time is the largest timestamp its task has seen (its stream
// time, both sides and any other input of the task included). It never
// goes back and survives restarts. A record's window closes when that time
// passes the end of its window plus the grace period: t + after + grace
// for a left record at t, t + before + grace for a right one. Until then
// the record joins every partner that arrives; after that it is final and
// joins nothing more. A record that arrives after its own window has
// closed, or with a negative timestamp, is late: it joins nothing, is
// counted (JoinLateRecords) and goes, once, to the OnLate handlers and the
// LateTo topic. So two records with the same key and timestamps within the
// window join unless one of them arrived late, or after the other's window
// had closed.
//
// (Kafka Streams joins a record with any partner still in its stores,
// closed or not, and can therefore emit a left join's unmatched result and
// later a match for the same record; eddy's windows close once, so every
// result is final.)
//
// Records with a null value cannot join and are dropped, as are records
// without a key in an inner join; both are counted by JoinDroppedRecords.
//
// # State and partitioning
//
// Each side's records wait in a segmented window store, "<name>-this"
// (left) and "<name>-other" (right), named after Named, each backed by a
// changelog "<app id>-<name>-this-changelog" (and -other-) with
// cleanup.policy=compact,delete. A record is kept for before + after +
// grace after its timestamp, as long as a partner may still arrive; the
// changelog a day longer, as the window stores'. Both stores are restored
// like every store at start, the join's time and the outer-join
// candidates included.
//
// left and right must be co-partitioned: the app refuses to start
// otherwise, naming their topics and partition counts. A side whose keys
// an operator may have changed (Map, SelectKey, FlatMap) first goes
// through a repartition topic "<app id>-<name>-left-repartition" (or
// -right-) with the other side's partition count (the left side's
// writer's count when both sides changed). Name the join.
//
// Options: Named, InMemory, CloseIdleAfter, OnLate and LateTo apply;
// EmitFinal (a join's results are final anyway) and Retention (the store
// keeps what the window needs) do not. An OnLate handler of type
// func(K, V1, int64) receives the left side's late records, one of type
// func(K, V2, int64) the right side's (both, when V1 and V2 are one type).
// LateTo writes each late record with its side's serdes and the headers
// eddy.late.time, eddy.task and eddy.join.side ("left" or "right").
func Join[K, V1, V2, VR any](left stream.Stream[K, V1], right stream.Stream[K, V2], w JoinWindow,
	joiner func(key K, left V1, right V2) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	var j func(K, V1, bool, V2, bool) VR
	if joiner != nil {
		j = func(k K, l V1, _ bool, r V2, _ bool) VR { return joiner(k, l, r) }
	}
	return buildJoin(left, right, w, innerJoin, j, vs, "KSTREAM-JOIN", opts)
}

// LeftJoin is Join, except that every left record produces a result: one
// per right record it joins, or, if it joins none, joiner(key, left, zero,
// false) once its window has closed — when the join's time passes its
// timestamp + after + grace, since a partner may arrive until then (Kafka
// Streams 3.1's behaviour, without the eager unmatched results of older
// versions). found tells whether right is a right record's value. The
// unmatched result has the left record's timestamp and no headers.
//
// Left records waiting for a partner are kept in a third store,
// "<name>-outer", changelogged like the others. So that the results of an
// idle partition do not wait for its next record, the join's time then
// follows the wall clock: CloseIdleAfter, on (DefaultCloseIdleAfter) by
// default for left and outer joins. A left record without a key joins
// nothing and is emitted unmatched at once (Kafka Streams 3.7).
func LeftJoin[K, V1, V2, VR any](left stream.Stream[K, V1], right stream.Stream[K, V2], w JoinWindow,
	joiner func(key K, left V1, right V2, found bool) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	var j func(K, V1, bool, V2, bool) VR
	if joiner != nil {
		j = func(k K, l V1, _ bool, r V2, rok bool) VR { return joiner(k, l, r, rok) }
	}
	return buildJoin(left, right, w, leftJoin, j, vs, "KSTREAM-LEFTJOIN", opts)
}

// OuterJoin is LeftJoin on both sides: a right record that joins no left
// record also produces a result, joiner(key, zero, false, right, true),
// once its window has closed (its timestamp + before + grace). See Join
// and LeftJoin.
func OuterJoin[K, V1, V2, VR any](left stream.Stream[K, V1], right stream.Stream[K, V2], w JoinWindow,
	joiner func(key K, left V1, leftFound bool, right V2, rightFound bool) VR, vs serde.Serde[VR], opts ...Option) stream.Stream[K, VR] {
	return buildJoin(left, right, w, outerJoin, joiner, vs, "KSTREAM-OUTERJOIN", opts)
}

// JoinLateRecords returns how many late records the join called name (its
// Named option) has dropped in a running app since it started, across its
// tasks and both sides.
func JoinLateRecords(app *stream.App, name string) int64 {
	return app.Internal().Counter(lateCounter(name)).Load()
}

// JoinDroppedRecords returns how many records the join called name has
// dropped because they could not join: records with a null value, and
// records without a key in an inner join (or on the side a left join does
// not keep).
func JoinDroppedRecords(app *stream.App, name string) int64 {
	return app.Internal().Counter(droppedCounter(name)).Load()
}

func droppedCounter(join string) string { return join + ".dropped-records" }

type joinKind int

const (
	innerJoin joinKind = iota
	leftJoin
	outerJoin
)

// keeps reports whether the join emits the unmatched records of side.
func (k joinKind) keeps(side byte) bool {
	return k == outerJoin || (k == leftJoin && side == sideLeft)
}

// joinSpec is a stream–stream join as built: shared, read-only, by the
// join's instances in every task.
type joinSpec[K, V1, V2, VR any] struct {
	name                  string
	kind                  joinKind
	win                   JoinWindow
	cfg                   config
	ks                    serde.Serde[K]
	lvs                   serde.Serde[V1]
	rvs                   serde.Serde[V2]
	joiner                func(K, V1, bool, V2, bool) VR
	this, other, outer    string // stores; outer is "" for inner joins
	lateLeft              []func(K, V1, int64)
	lateRight             []func(K, V2, int64)
	leftTopics, rightTops map[string]bool // topics feeding each side, to tell keyless records
}

func buildJoin[K, V1, V2, VR any](left stream.Stream[K, V1], right stream.Stream[K, V2], w JoinWindow, kind joinKind,
	joiner func(K, V1, bool, V2, bool) VR, vs serde.Serde[VR], prefix string, opts []Option) stream.Stream[K, VR] {
	l, r := left.Internal(), right.Internal()
	b := l.B
	c := collect(opts)
	name := b.Name(c.name, prefix)
	fail := func(format string, args ...any) {
		b.Fail(fmt.Errorf("window: join %s: "+format, append([]any{name}, args...)...))
	}
	if r.B != b {
		fail("the two streams belong to different builders")
	}
	if err := w.validate(); err != nil {
		fail("%w", err)
	}
	if err := c.resolveJoin(kind); err != nil {
		fail("%w", err)
	}
	ks := l.KeySerde
	if ks == nil {
		ks = r.KeySerde
	}
	switch {
	case joiner == nil:
		fail("nil joiner")
	case ks == nil:
		fail("neither stream has a key serde; give one where the key type changed")
	case l.ValueSerde == nil:
		fail("the left stream has no value serde (its records wait in a store); give one where its type changed")
	case r.ValueSerde == nil:
		fail("the right stream has no value serde (its records wait in a store); give one where its type changed")
	}
	s := &joinSpec[K, V1, V2, VR]{name: name, kind: kind, win: w, cfg: c, ks: ks, lvs: l.ValueSerde, rvs: r.ValueSerde,
		joiner: joiner, this: name + "-this", other: name + "-other"}
	s.sortLateHandlers(fail)

	// Co-partitioning: a re-keyed side is written through a topic sized
	// like the other side's input (or, both re-keyed, the right one like
	// the left one's repartition topic).
	switch {
	case l.KeyChanged && r.KeyChanged:
		l = dsl.Repartition(l, name+"-left", 0)
		r = dsl.Repartition(r, name+"-right", topology.PartitionsOfReader)
	case l.KeyChanged:
		l = dsl.Repartition(l, name+"-left", topology.PartitionsOfReader)
	case r.KeyChanged:
		r = dsl.Repartition(r, name+"-right", topology.PartitionsOfReader)
	}
	s.leftTopics, s.rightTops = l.Node.UpstreamTopics(), r.Node.UpstreamTopics()

	stores := []string{s.this, s.other}
	if kind != innerJoin {
		s.outer = name + "-outer"
		stores = append(stores, s.outer)
	}
	storeCfg := config{retention: msDuration(w.retention()), inMemory: c.inMemory}
	for _, st := range stores {
		declareStore(b, st, storeCfg)
	}
	node := &topology.Node{Name: name, Kind: topology.Processor, Stores: stores}
	b.Add(node, l.Node, r.Node)
	out := &dsl.Stream[K, VR]{B: b, Node: node, KeySerde: ks, ValueSerde: vs}
	if c.lateTopic != "" {
		b.Add(&topology.Node{Name: name + "-late", Kind: topology.Sink, Topics: []string{c.lateTopic}}, node)
	}

	// One instance per task, reached from both sides.
	build := func(tc topology.TaskContext) (*joinTask[K, V1, V2, VR], error) {
		v, err := tc.Memo(node, func() (any, error) {
			next, err := out.Build(tc)
			if err != nil {
				return nil, err
			}
			return newJoin(tc, next, s)
		})
		if err != nil {
			return nil, err
		}
		return v.(*joinTask[K, V1, V2, VR]), nil
	}
	l.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, V1], error) {
		j, err := build(tc)
		if err != nil {
			return nil, err
		}
		return dsl.ReceiverFunc[K, V1](j.left.receive), nil
	})
	r.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, V2], error) {
		j, err := build(tc)
		if err != nil {
			return nil, err
		}
		return dsl.ReceiverFunc[K, V2](j.right.receive), nil
	})
	return stream.Wrap(out)
}

// resolveJoin checks the options a join takes and fills in defaults.
func (c *config) resolveJoin(kind joinKind) error {
	switch {
	case c.emitFinal:
		return fmt.Errorf("EmitFinal does not apply to joins: their results are final as they come")
	case c.retention != 0:
		return fmt.Errorf("Retention does not apply to joins: their stores keep records as long as the window needs")
	case c.idle < 0 || (c.idle > 0 && c.idle < msDuration(1)):
		return fmt.Errorf("CloseIdleAfter %v: want 0 (off) or at least 1ms", c.idle)
	}
	if !c.idleSet && kind != innerJoin {
		c.idle = DefaultCloseIdleAfter
	}
	return nil
}

// sortLateHandlers assigns the OnLate handlers to the sides by their
// types: func(K, V1, int64) takes the left side's late records,
// func(K, V2, int64) the right side's, and both when V1 and V2 are one
// type.
func (s *joinSpec[K, V1, V2, VR]) sortLateHandlers(fail func(string, ...any)) {
	for _, f := range s.cfg.late {
		lf, isLeft := f.(func(K, V1, int64))
		rf, isRight := f.(func(K, V2, int64))
		switch {
		case !isLeft && !isRight:
			fail("OnLate handler %s matches neither %s nor %s", reflect.TypeOf(f), reflect.TypeOf(lf), reflect.TypeOf(rf))
			continue
		case (isLeft && lf == nil) || (isRight && rf == nil):
			fail("nil OnLate handler")
			continue
		}
		if isLeft {
			s.lateLeft = append(s.lateLeft, lf)
		}
		if isRight {
			s.lateRight = append(s.lateRight, rf)
		}
	}
}
