package window

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// joinSide is one side of a join in a task, seen from its own records
// (VT) looking for partners on the other side (VO).
type joinSide[K, VT, VO, VR any] struct {
	state        *joinState[K, VR]
	side         byte
	own, partner storage.Store // where this side's records wait, and the other side's
	ownName      string
	partnerName  string
	tvs          serde.Serde[VT]
	ovs          serde.Serde[VO]
	topics       map[string]bool // topics feeding this side
	onLate       []func(K, VT, int64)
	joined       func(K, VT, VO) VR // a pair's result, arguments in this side's order
	alone        func(K, VT) VR     // the result of a record that joined nothing
}

// receive joins a record of this side: time moves on (closing windows and
// emitting the candidates they close), then the record is late, or waits
// in this side's store and joins the other side's open records in its
// window.
func (j *joinSide[K, VT, VO, VR]) receive(r dsl.Record[K, VT]) error {
	s := j.state
	// Candidates closing now are emitted before the record joins anything:
	// it may not join them any more.
	if err := s.advance(max(s.tc.StreamTime(), r.Timestamp)); err != nil {
		return err
	}
	s.idleWall, s.idleTime = s.tc.Now().UnixMilli(), s.time
	if r.Tombstone {
		s.dropped.Add(1) // as Kafka Streams: a null value cannot join
		return nil
	}
	// A null key shows only on the input record; the current record of
	// another topic (the other side's, a cache flush's) says nothing
	// about this one.
	if raw := s.tc.Current(); raw != nil && raw.Key == nil && j.topics[raw.Topic] {
		if !s.kind.keeps(j.side) {
			s.dropped.Add(1)
			return nil
		}
		// It can join nothing: unmatched at once (Kafka Streams 3.7).
		return s.next.Receive(dsl.Record[K, VR]{Key: r.Key, Value: j.alone(r.Key, r.Value), Timestamp: r.Timestamp, Headers: r.Headers})
	}
	if r.Timestamp < 0 || s.closed(j.side, r.Timestamp) {
		return j.lateRecord(r)
	}
	// One name for the key on both sides, so that their bytes match
	// whatever the serde makes of the topic argument.
	kb, err := s.ks.Serialize(s.name, r.Key)
	if err != nil {
		return fmt.Errorf("window: join %s: key: %w", s.name, err)
	}
	vb, err := j.tvs.Serialize(j.ownName, r.Value)
	if err != nil {
		return fmt.Errorf("window: join %s: value: %w", s.name, err)
	}
	s.seq++
	seq := s.seq
	if err := j.own.Put(recordKey(kb, r.Timestamp, seq), vb); err != nil {
		return err
	}
	if err := s.saveMeta(); err != nil {
		return err
	}

	type partner struct {
		ts  int64
		seq uint64
		vb  []byte
	}
	var partners []partner
	other := sideLeft + sideRight - j.side
	back, ahead := s.win.reach(j.side)
	lo, hi := timeRange(keyPrefix(tagRecord, kb), satSub(r.Timestamp, back), satAdd(r.Timestamp, ahead))
	err = s.scan(j.partner, lo, hi, func(k, v []byte) error {
		ts, pseq, err := parseRecordKey(k)
		if err != nil {
			return err
		}
		if !s.closed(other, ts) { // a closed record is final
			partners = append(partners, partner{ts: ts, seq: pseq, vb: bytes.Clone(v)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range partners {
		ov, err := j.ovs.Deserialize(j.partnerName, p.vb)
		if err != nil {
			return fmt.Errorf("window: join %s: buffered value: %w", s.name, err)
		}
		if s.kind.keeps(other) {
			if err := s.dropCandidate(other, kb, p.ts, p.seq); err != nil {
				return err
			}
		}
		out := dsl.Record[K, VR]{Key: r.Key, Value: j.joined(r.Key, r.Value, ov), Timestamp: max(r.Timestamp, p.ts), Headers: r.Headers}
		if err := s.next.Receive(out); err != nil {
			return err
		}
	}
	if len(partners) == 0 && s.kind.keeps(j.side) {
		return s.addCandidate(j.side, kb, r.Timestamp, seq, vb)
	}
	return nil
}

// forwardUnmatched emits a candidate of this side whose window closed
// without a partner, with its own timestamp.
func (j *joinSide[K, VT, VO, VR]) forwardUnmatched(c candidate, vb []byte) error {
	s := j.state
	k, err := s.ks.Deserialize(s.name, c.kb)
	if err != nil {
		return fmt.Errorf("window: join %s: stored key: %w", s.name, err)
	}
	v, err := j.tvs.Deserialize(j.ownName, vb)
	if err != nil {
		return fmt.Errorf("window: join %s: stored value: %w", s.name, err)
	}
	return s.next.Receive(dsl.Record[K, VR]{Key: k, Value: j.alone(k, v), Timestamp: c.ts})
}

// lateRecord counts a late record and hands it to the handlers and the
// LateTo topic.
func (j *joinSide[K, VT, VO, VR]) lateRecord(r dsl.Record[K, VT]) error {
	s := j.state
	s.late.Add(1)
	for _, f := range j.onLate {
		f(r.Key, r.Value, r.Timestamp)
	}
	topic := s.lateTopic
	if topic == "" {
		return nil
	}
	kb, err := s.ks.Serialize(topic, r.Key)
	if err != nil {
		return fmt.Errorf("window: join %s: late record key: %w", s.name, err)
	}
	vb, err := j.tvs.Serialize(topic, r.Value)
	if err != nil {
		return fmt.Errorf("window: join %s: late record value: %w", s.name, err)
	}
	side := "left"
	if j.side == sideRight {
		side = "right"
	}
	headers := append(append([]batch.RecordHeader(nil), r.Headers...),
		batch.RecordHeader{Key: "eddy.late.time", Value: []byte(strconv.FormatInt(s.time, 10))},
		batch.RecordHeader{Key: "eddy.task", Value: []byte(s.tc.TaskID().String())},
		batch.RecordHeader{Key: "eddy.join.side", Value: []byte(side)})
	return s.tc.Send(topic, -1, kb, vb, r.Timestamp, headers)
}
