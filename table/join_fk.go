package table

import (
	"bytes"
	"fmt"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// JoinForeignKey joins each row of left with the row of right whose key
// fk extracts from the left value (an inner join): the result, keyed like
// left, holds joiner(leftValue, rightValue) for each left row whose
// foreign key right holds. Updates of either side update the result: a
// left row that changes its foreign key moves to the new right row, and a
// delete on either side removes the rows it joined.
//
// The two tables need not be co-partitioned, nor have equal partition
// counts. As in Kafka Streams, each left update sends a subscription to
// the partition of its foreign key through the internal topic
// "<app id>-<name>-subscription-registration-topic" (as many partitions as
// right's topic); the right side keeps the subscriptions in the store
// "<name>-subscription-store" and answers each subscription, and each of
// its updates, to the subscribers' partitions through
// "<app id>-<name>-subscription-response-topic" (as many as left's).
// Responses carry a hash of the left value they were computed for; one
// that no longer matches the row's value is stale and dropped, so the
// result never shows a join of a value the row no longer has. The left
// side keeps what it last subscribed in "<name>-left-state"; a right side
// derived by Filter or MapValues is kept in "<name>-right-store".
//
// The result is materialized in the store named by Named (give a name:
// it also names the topics and stores above), queryable with Lookup; vs
// serializes its values. The result's timestamp is the larger of the
// left row's and the right row's (or of the subscription's).
func JoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], fk func(V) KO, joiner func(leftValue V, rightValue VO) VR, vs serde.Serde[VR], opts ...Option) Table[K, VR] {
	return foreignKeyJoin(left, right, fk, false, func(v V, vo VO, _ bool) VR { return joiner(v, vo) }, vs, "KTABLE-FKJOIN", opts)
}

// LeftJoinForeignKey is JoinForeignKey keeping every left row: found
// tells the joiner whether right holds the row's foreign key (else
// rightValue is VO's zero value).
func LeftJoinForeignKey[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], fk func(V) KO, joiner func(leftValue V, rightValue VO, found bool) VR, vs serde.Serde[VR], opts ...Option) Table[K, VR] {
	return foreignKeyJoin(left, right, fk, true, joiner, vs, "KTABLE-FKLEFTJOIN", opts)
}

// fkJoin is a foreign-key join's configuration, shared by its tasks.
type fkJoin[K, V, KO, VO, VR any] struct {
	name     string
	left     bool // a left join
	ks       serde.Serde[K]
	lvs      serde.Serde[V]
	rks      serde.Serde[KO]
	rvs      serde.Serde[VO]
	vs       serde.Serde[VR]
	fk       func(V) KO
	joiner   func(V, VO, bool) VR
	ownRight bool // the join keeps right's values itself

	leftState, subscriptions, rightStore, result string
	subscriptionTopic, responseTopic             string
}

func foreignKeyJoin[K, V, KO, VO, VR any](left Table[K, V], right Table[KO, VO], fk func(V) KO, leftJoin bool, joiner func(V, VO, bool) VR, vs serde.Serde[VR], prefix string, opts []Option) Table[K, VR] {
	b := left.s.B
	o := collect(opts)
	name := b.Name(o.name, prefix)
	j := &fkJoin[K, V, KO, VO, VR]{name: name, left: leftJoin, ks: left.s.KeySerde, lvs: left.s.ValueSerde,
		rks: right.s.KeySerde, rvs: right.s.ValueSerde, vs: vs, fk: fk, joiner: joiner}
	for _, c := range []struct {
		missing bool
		what    string
	}{{j.ks == nil, "the left table's key serde"}, {j.lvs == nil, "the left table's value serde"},
		{j.rks == nil, "the right table's key serde"}, {j.rvs == nil, "the right table's value serde"},
		{vs == nil, "a serde for the result's values"}} {
		if c.missing {
			b.Fail(fmt.Errorf("foreign-key join %s: %s is missing (give serdes where types change)", name, c.what))
		}
	}
	store := func(suffix string) string {
		return materialize(b, options{name: name + suffix, inMemory: o.inMemory}, "")
	}
	j.leftState, j.subscriptions, j.result = store("-left-state"), store("-subscription-store"), store("")
	j.rightStore = right.s.Store
	if j.rightStore == "" {
		j.rightStore, j.ownRight = store("-right-store"), true
	}
	j.subscriptionTopic = b.InternalTopic(name, "subscription-registration-topic")
	j.responseTopic = b.InternalTopic(name, "subscription-response-topic")
	for _, t := range []string{j.subscriptionTopic, j.responseTopic} {
		b.Topo.InternalTopics[t] = &topology.InternalTopic{Name: t, Partitions: topology.PartitionsOfReader, Repartition: true,
			Configs: map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}}
	}

	// Left sub-topology: left updates subscribe; responses resolve.
	subscribeNode := dsl.Then(left.s, name+"-subscribe", []string{j.leftState, j.result}, j.ks, j.lvs, j.subscriber)
	b.Add(&topology.Node{Name: name + "-subscription-sink", Kind: topology.Sink, Topics: []string{j.subscriptionTopic}}, subscribeNode.Node)
	responses := dsl.Source(b, name+"-response-source", []string{j.responseTopic}, serde.Bytes, serde.Bytes, nil)
	out := dsl.Then(responses, name+"-resolve", []string{j.leftState, j.result}, j.ks, vs, j.resolver)
	out.Store = j.result

	// Right sub-topology: subscriptions are registered and answered; right
	// updates answer every subscriber of their key.
	subscriptions := dsl.Source(b, name+"-subscription-source", []string{j.subscriptionTopic}, serde.Bytes, serde.Bytes, nil)
	registered := dsl.Then(subscriptions, name+"-subscription-join", []string{j.subscriptions, j.rightStore}, serde.Bytes, serde.Bytes, j.registrar)
	updated := dsl.Then(right.s, name+"-right-update", []string{j.subscriptions, j.rightStore}, j.rks, j.rvs, j.rightUpdater)
	b.Add(&topology.Node{Name: name + "-response-sink", Kind: topology.Sink, Topics: []string{j.responseTopic}}, registered.Node, updated.Node)
	return Table[K, VR]{out}
}

// subscriber handles left updates: it records what the row subscribes to,
// unsubscribes from a foreign key the row left, and subscribes to the new
// one. A deleted row deletes its result at once: any response still on
// its way finds no row and is dropped.
func (j *fkJoin[K, V, KO, VO, VR]) subscriber(tc topology.TaskContext, _ dsl.Receiver[K, V]) (dsl.Receiver[K, V], error) {
	state, err := tc.Store(j.leftState)
	if err != nil {
		return nil, err
	}
	res, err := tc.Store(j.result)
	if err != nil {
		return nil, err
	}
	send := func(fk []byte, ins fkInstruction, hash [hashSize]byte, pk []byte, ts int64) error {
		return tc.Send(j.subscriptionTopic, -1, fk, encodeSubscription(ins, hash, pk), ts, nil)
	}
	return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
		pk, err := j.ks.Serialize(j.leftState, r.Key)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: key: %w", j.name, err)
		}
		old, had, err := state.Get(pk)
		if err != nil {
			return err
		}
		var oldFK []byte
		if had {
			if _, oldFK, _, err = decodeLeftState(old); err != nil {
				return fmt.Errorf("foreign-key join %s: %w", j.name, err)
			}
		}
		if r.Tombstone {
			if had {
				if err := send(oldFK, unsubscribe, [hashSize]byte{}, pk, r.Timestamp); err != nil {
					return err
				}
				if err := state.Delete(pk); err != nil {
					return err
				}
			}
			return deleteIfPresent(res, pk)
		}
		vb, err := j.lvs.Serialize(j.leftState, r.Value)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: value: %w", j.name, err)
		}
		fkb, err := j.rks.Serialize(j.subscriptionTopic, j.fk(r.Value))
		if err != nil {
			return fmt.Errorf("foreign-key join %s: foreign key: %w", j.name, err)
		}
		if had && !bytes.Equal(oldFK, fkb) {
			if err := send(oldFK, unsubscribe, [hashSize]byte{}, pk, r.Timestamp); err != nil {
				return err
			}
		}
		if err := state.Put(pk, encodeLeftState(r.Timestamp, fkb, vb)); err != nil {
			return err
		}
		return send(fkb, subscribe, valueHash(vb), pk, r.Timestamp)
	}), nil
}

// registrar handles subscriptions on the right side: it keeps or removes
// the registration and answers a subscription with the right row as it
// is now (or its absence, which an inner join turns into a delete).
func (j *fkJoin[K, V, KO, VO, VR]) registrar(tc topology.TaskContext, _ dsl.Receiver[[]byte, []byte]) (dsl.Receiver[[]byte, []byte], error) {
	subs, err := tc.Store(j.subscriptions)
	if err != nil {
		return nil, err
	}
	right, err := tc.Store(j.rightStore)
	if err != nil {
		return nil, err
	}
	return dsl.ReceiverFunc[[]byte, []byte](func(r dsl.Record[[]byte, []byte]) error {
		if r.Tombstone {
			return nil // never written; nothing to register
		}
		ins, hash, pk, err := decodeSubscription(r.Value)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: %w", j.name, err)
		}
		key := subscriptionKey(r.Key, pk)
		if ins == unsubscribe {
			return subs.Delete(key)
		}
		if err := subs.Put(key, encodeSubscriptionEntry(hash, r.Timestamp)); err != nil {
			return err
		}
		raw, found, err := right.Get(r.Key)
		if err != nil {
			return err
		}
		ts := r.Timestamp
		var value []byte
		if found {
			var rts int64
			if rts, value, err = dsl.DecodeTimestamped(raw); err != nil {
				return fmt.Errorf("foreign-key join %s: table %s: %w", j.name, j.rightStore, err)
			}
			ts = max(ts, rts)
		}
		return tc.Send(j.responseTopic, -1, pk, encodeResponse(hash, value, found), ts, nil)
	}), nil
}

// rightUpdater handles right updates: every left row subscribed to the
// key gets a response with the new value (or its absence).
func (j *fkJoin[K, V, KO, VO, VR]) rightUpdater(tc topology.TaskContext, _ dsl.Receiver[KO, VO]) (dsl.Receiver[KO, VO], error) {
	subs, err := tc.Store(j.subscriptions)
	if err != nil {
		return nil, err
	}
	right, err := tc.Store(j.rightStore)
	if err != nil {
		return nil, err
	}
	return dsl.ReceiverFunc[KO, VO](func(r dsl.Record[KO, VO]) error {
		fkb, err := j.rks.Serialize(j.rightStore, r.Key)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: right key: %w", j.name, err)
		}
		var value []byte
		if !r.Tombstone {
			if value, err = j.rvs.Serialize(j.rightStore, r.Value); err != nil {
				return fmt.Errorf("foreign-key join %s: right value: %w", j.name, err)
			}
		}
		if j.ownRight {
			if err := keepValue(right, fkb, value, r.Tombstone, r.Timestamp); err != nil {
				return err
			}
		}
		prefix := subscriptionPrefix(fkb)
		it, err := subs.Range(prefix, prefixEnd(prefix))
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
			pk, err := primaryKeyOf(it.Key())
			if err != nil {
				return fmt.Errorf("foreign-key join %s: %w", j.name, err)
			}
			hash, sts, err := decodeSubscriptionEntry(it.Value())
			if err != nil {
				return fmt.Errorf("foreign-key join %s: %w", j.name, err)
			}
			if err := tc.Send(j.responseTopic, -1, pk, encodeResponse(hash, value, !r.Tombstone), max(r.Timestamp, sts), nil); err != nil {
				return err
			}
		}
		return it.Err()
	}), nil
}

// keepValue writes a table update's serialized value, or its delete.
func keepValue(st storage.Store, key, value []byte, tombstone bool, ts int64) error {
	if tombstone {
		return st.Delete(key)
	}
	return st.Put(key, dsl.EncodeTimestamped(ts, value))
}

// resolver handles responses on the left side: a response for the row's
// current value updates the result; others are stale and dropped.
func (j *fkJoin[K, V, KO, VO, VR]) resolver(tc topology.TaskContext, next dsl.Receiver[K, VR]) (dsl.Receiver[[]byte, []byte], error) {
	state, err := tc.Store(j.leftState)
	if err != nil {
		return nil, err
	}
	res, err := tc.Store(j.result)
	if err != nil {
		return nil, err
	}
	forwardOnFlush(tc, j.result, j.ks, j.vs, j.result, next)
	return dsl.ReceiverFunc[[]byte, []byte](func(r dsl.Record[[]byte, []byte]) error {
		if r.Tombstone {
			return nil // never written
		}
		hash, value, found, err := decodeResponse(r.Value)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: %w", j.name, err)
		}
		cur, ok, err := state.Get(r.Key)
		if err != nil || !ok {
			return err // the row is gone; its delete removed the result
		}
		lts, _, lvb, err := decodeLeftState(cur)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: %w", j.name, err)
		}
		if valueHash(lvb) != hash {
			return nil // computed for a value the row no longer has
		}
		if !found && !j.left {
			return deleteIfPresent(res, r.Key)
		}
		v, err := j.lvs.Deserialize(j.leftState, lvb)
		if err != nil {
			return fmt.Errorf("foreign-key join %s: left value: %w", j.name, err)
		}
		var vo VO
		if found {
			if vo, err = j.rvs.Deserialize(j.rightStore, value); err != nil {
				return fmt.Errorf("foreign-key join %s: right value: %w", j.name, err)
			}
		}
		return putValue(res, j.result, j.vs, r.Key, j.joiner(v, vo, found), max(lts, r.Timestamp))
	}), nil
}
