package table

import (
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// Join joins two tables on their key (an inner join): the result holds
// joiner(a, b) for each key both hold. An update of either side looks up
// the other side's current value and updates the result; when a side
// deletes a key the other holds, the result deletes it too. The result's
// timestamp is the larger of the two sides'.
//
// The result is a table of its own, materialized in a store named by
// Named (changelog "<app id>-<name>-changelog"), queryable with Lookup,
// and forwarded downstream when its cache flushes, like an aggregate's.
// vs serializes its values. A side derived by Filter or MapValues is
// materialized by the join in a store of its own ("<name>-left-store",
// "<name>-right-store"); a side with a store is read in place. a and b
// must be co-partitioned: the app refuses to start otherwise.
func Join[K, VA, VB, VR any](a Table[K, VA], b Table[K, VB], joiner func(a VA, b VB) VR, vs serde.Serde[VR], opts ...Option) Table[K, VR] {
	return tableJoin(a, b, innerJoin, func(va VA, _ bool, vb VB, _ bool) VR { return joiner(va, vb) }, vs, "KTABLE-JOIN", opts)
}

// LeftJoin joins two tables keeping every key of a: the result holds
// joiner(a, b, found) for each key a holds, found telling whether b holds
// it too (else vb is VB's zero value). An update of b for a key a does not
// hold changes nothing; a delete in a deletes the result. See Join for
// timestamps, the result's store and co-partitioning.
func LeftJoin[K, VA, VB, VR any](a Table[K, VA], b Table[K, VB], joiner func(a VA, b VB, found bool) VR, vs serde.Serde[VR], opts ...Option) Table[K, VR] {
	return tableJoin(a, b, leftJoin, func(va VA, _ bool, vb VB, bok bool) VR { return joiner(va, vb, bok) }, vs, "KTABLE-LEFTJOIN", opts)
}

// OuterJoin joins two tables keeping every key either holds: the result
// holds joiner(va, aFound, vb, bFound) for each key a or b holds, the
// flags telling which sides do (a missing side's value is its type's zero
// value). The result deletes a key once both sides have. See Join for
// timestamps, the result's store and co-partitioning.
func OuterJoin[K, VA, VB, VR any](a Table[K, VA], b Table[K, VB], joiner func(a VA, aFound bool, b VB, bFound bool) VR, vs serde.Serde[VR], opts ...Option) Table[K, VR] {
	return tableJoin(a, b, outerJoin, joiner, vs, "KTABLE-OUTERJOIN", opts)
}

type joinMode int

const (
	innerJoin joinMode = iota
	leftJoin
	outerJoin
)

// joinSide is one input of a table–table join as the join reads it: the
// table's own store, or one the join keeps for a table that has none.
type joinSide[K, V any] struct {
	in    *dsl.Stream[K, V]
	store string
	own   bool // the join writes store itself
}

func newJoinSide[K, V any](b *dsl.Builder, in *dsl.Stream[K, V], join, side string, o options) joinSide[K, V] {
	if in.ValueSerde == nil {
		b.Fail(fmt.Errorf("join %s: the %s table has no value serde (give one where its type changed)", join, side))
	}
	if in.Store != "" {
		return joinSide[K, V]{in: in, store: in.Store}
	}
	store := materialize(b, options{name: join + "-" + side + "-store", inMemory: o.inMemory}, "")
	return joinSide[K, V]{in: in, store: store, own: true}
}

// tableJoiner is a join's state in one task: the stores it reads and
// writes and where the result's updates go.
type tableJoiner[K, VA, VB, VR any] struct {
	name       string
	mode       joinMode
	ks         serde.Serde[K]
	vs         serde.Serde[VR]
	a          joinSide[K, VA]
	b          joinSide[K, VB]
	result     string
	aSt, bSt   storage.Store
	resSt      storage.Store
	joiner     func(VA, bool, VB, bool) VR
	avs        serde.Serde[VA]
	bvs        serde.Serde[VB]
	resultNext dsl.Receiver[K, VR]
}

func tableJoin[K, VA, VB, VR any](a Table[K, VA], b Table[K, VB], mode joinMode, joiner func(VA, bool, VB, bool) VR, vs serde.Serde[VR], prefix string, opts []Option) Table[K, VR] {
	bl := a.s.B
	o := collect(opts)
	name := bl.Name(o.name, prefix)
	ks := a.s.KeySerde
	if ks == nil {
		bl.Fail(fmt.Errorf("join %s: the left table has no key serde", name))
	}
	if vs == nil {
		bl.Fail(fmt.Errorf("join %s: no serde for the result's values", name))
	}
	left := newJoinSide(bl, a.s, name, "left", o)
	right := newJoinSide(bl, b.s, name, "right", o)
	result := materialize(bl, options{name: name, inMemory: o.inMemory}, "")
	node := &topology.Node{Name: name, Kind: topology.Processor, Stores: dedup(left.store, right.store, result)}
	bl.Add(node, a.s.Node, b.s.Node)
	out := &dsl.Stream[K, VR]{B: bl, Node: node, KeySerde: ks, ValueSerde: vs, Store: result}

	// One joiner per task, reached from both sides.
	build := func(tc topology.TaskContext) (*tableJoiner[K, VA, VB, VR], error) {
		j, err := tc.Memo(node, func() (any, error) {
			j := &tableJoiner[K, VA, VB, VR]{name: name, mode: mode, ks: ks, vs: vs, a: left, b: right, result: result,
				joiner: joiner, avs: a.s.ValueSerde, bvs: b.s.ValueSerde}
			var err error
			if j.aSt, err = tc.Store(left.store); err != nil {
				return nil, err
			}
			if j.bSt, err = tc.Store(right.store); err != nil {
				return nil, err
			}
			if j.resSt, err = tc.Store(result); err != nil {
				return nil, err
			}
			if j.resultNext, err = out.Build(tc); err != nil {
				return nil, err
			}
			forwardOnFlush(tc, result, ks, vs, result, j.resultNext)
			return j, nil
		})
		if err != nil {
			return nil, err
		}
		return j.(*tableJoiner[K, VA, VB, VR]), nil
	}
	a.s.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, VA], error) {
		j, err := build(tc)
		if err != nil {
			return nil, err
		}
		return dsl.ReceiverFunc[K, VA](j.updateLeft), nil
	})
	b.s.Attach(func(tc topology.TaskContext) (dsl.Receiver[K, VB], error) {
		j, err := build(tc)
		if err != nil {
			return nil, err
		}
		return dsl.ReceiverFunc[K, VB](j.updateRight), nil
	})
	return Table[K, VR]{out}
}

// dedup drops repeated store names (a table joined with itself).
func dedup(names ...string) []string {
	var out []string
	for _, n := range names {
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// updateLeft applies an update of the left table: it keeps the value if
// the join materializes that side, then joins it with the right side's
// current value.
func (j *tableJoiner[K, VA, VB, VR]) updateLeft(r dsl.Record[K, VA]) error {
	kb, err := j.key(r.Key)
	if err != nil {
		return err
	}
	if err := keepSide(j.a, j.aSt, j.avs, kb, r); err != nil {
		return fmt.Errorf("join %s: %w", j.name, err)
	}
	vb, bts, bok, err := storedValue(j.bSt, j.b.store, j.bvs, kb)
	if err != nil {
		return fmt.Errorf("join %s: %w", j.name, err)
	}
	if bok {
		bts = max(bts, r.Timestamp)
	} else {
		bts = r.Timestamp
	}
	return j.apply(kb, r.Value, !r.Tombstone, vb, bok, bts)
}

// updateRight is updateLeft for the right table.
func (j *tableJoiner[K, VA, VB, VR]) updateRight(r dsl.Record[K, VB]) error {
	kb, err := j.key(r.Key)
	if err != nil {
		return err
	}
	if err := keepSide(j.b, j.bSt, j.bvs, kb, r); err != nil {
		return fmt.Errorf("join %s: %w", j.name, err)
	}
	va, ats, aok, err := storedValue(j.aSt, j.a.store, j.avs, kb)
	if err != nil {
		return fmt.Errorf("join %s: %w", j.name, err)
	}
	if aok {
		ats = max(ats, r.Timestamp)
	} else {
		ats = r.Timestamp
	}
	return j.apply(kb, va, aok, r.Value, !r.Tombstone, ats)
}

func (j *tableJoiner[K, VA, VB, VR]) key(k K) ([]byte, error) {
	kb, err := j.ks.Serialize(j.result, k)
	if err != nil {
		return nil, fmt.Errorf("join %s: key: %w", j.name, err)
	}
	return kb, nil
}

// keepSide writes an update into the side's store when the join keeps it.
func keepSide[K, V any](side joinSide[K, V], st storage.Store, vs serde.Serde[V], kb []byte, r dsl.Record[K, V]) error {
	if !side.own {
		return nil // the table's own operator wrote it
	}
	if r.Tombstone {
		return st.Delete(kb)
	}
	return putValue(st, side.store, vs, kb, r.Value, r.Timestamp)
}

// apply updates the result for a key after an update of one side
// (fromLeft says which), given both sides' values now, by Kafka Streams'
// KTable–KTable join rules. ts is the larger timestamp of the two.
//
// Where those rules forward nothing (an inner join's update while the
// other side lacks the key, a left join's right update while the left
// lacks it) the result is deleted if present instead: Kafka Streams can
// rely on the result being absent then, but here the other side's store
// may be ahead of the updates forwarded so far (its cache has not flushed
// yet), and its own delete may already have arrived while this side still
// held the key.
func (j *tableJoiner[K, VA, VB, VR]) apply(kb []byte, va VA, aok bool, vb VB, bok bool, ts int64) error {
	keep := aok && bok // whether the result holds the key after this update
	switch j.mode {
	case leftJoin:
		keep = aok
	case outerJoin:
		keep = aok || bok
	}
	if !keep {
		if err := deleteIfPresent(j.resSt, kb); err != nil {
			return fmt.Errorf("join %s: %w", j.name, err)
		}
		return nil
	}
	if err := putValue(j.resSt, j.result, j.vs, kb, j.joiner(va, aok, vb, bok), ts); err != nil {
		return fmt.Errorf("join %s: %w", j.name, err)
	}
	return nil
}
