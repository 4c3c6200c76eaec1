package window

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// counterSource is what the engine's tasks offer beyond TaskContext: named
// counters that queries can read (LateRecords).
type counterSource interface {
	Counter(name string) *atomic.Int64
}

// operator is one task's instance of a windowed aggregation.
//
// Its time is the largest of the task's stream time, the timestamps it has
// seen and, while the task is idle, the wall-clock extrapolation of
// CloseIdleAfter. It never goes back, and it is kept in the store (meta
// entry), so a restart neither reopens closed windows nor forgets an idle
// advance.
type operator[K, V, A any] struct {
	*spec[K, V, A]
	tc   topology.TaskContext
	st   storage.Store
	next dsl.Receiver[Key[K], A]
	late *atomic.Int64

	time int64  // math.MinInt64 before any record
	seq  uint64 // arrival number of the last buffered record (sliding)
	// closing is, under EmitFinal, the windows not emitted yet.
	closing *closeQueue
	// idleWall is when (wall clock, Unix ms) the last record arrived, or
	// the task started; idleTime the operator's time then.
	idleWall, idleTime int64
	// keyBuf and valBuf are scratch space for the store's keys and values
	// (the store copies them); emitKey for the window being emitted, whose
	// value emitRead reads.
	keyBuf, valBuf, emitKey []byte
	metaBuf                 []byte // saveMeta's
	emitRead                *storage.ValueReader
	aggEnc                  *dsl.Encoder[A]
	// recKey encodes the key of the record being received, into a buffer
	// reused from record to record: every store key made from it is a
	// copy.
	recKey *dsl.Encoder[K]
	// upd folds records into windows; foldFn (foldCur, made once so that
	// no call allocates) folds cur, the record being processed, into the
	// window curKey ending at curEnd.
	upd    *storage.Updater
	foldFn func(old []byte, found bool) ([]byte, error)
	cur    dsl.Record[K, V]
	curKey []byte
	curEnd int64
}

func newOperator[K, V, A any](tc topology.TaskContext, next dsl.Receiver[Key[K], A], s *spec[K, V, A]) (*operator[K, V, A], error) {
	st, err := tc.Store(s.store)
	if err != nil {
		return nil, err
	}
	o := &operator[K, V, A]{spec: s, tc: tc, st: st, next: next, time: math.MinInt64}
	o.aggEnc, o.recKey = dsl.NewEncoder(s.as), dsl.NewEncoder(s.ks)
	o.upd, o.foldFn = storage.NewUpdater(st), o.foldCur
	o.emitRead = storage.NewValueReader(st)
	if cs, ok := tc.(counterSource); ok {
		o.late = cs.Counter(s.counter)
	} else {
		o.late = new(atomic.Int64)
	}
	if err := o.loadMeta(); err != nil {
		return nil, err
	}
	if s.cfg.emitFinal {
		if err := o.loadCloseQueue(); err != nil {
			return nil, err
		}
	}
	o.idleWall, o.idleTime = tc.Now().UnixMilli(), o.time
	if !s.cfg.emitFinal {
		tc.OnFlush(s.store, o.forwardFlushed)
	}
	if s.cfg.idle > 0 {
		tc.Schedule(min(s.cfg.idle, time.Second), topology.WallClock, o.idleCheck)
	}
	return o, nil
}

func (o *operator[K, V, A]) loadMeta() error {
	b, ok, err := o.st.Get(metaKey)
	if err != nil || !ok {
		return err
	}
	if len(b) != 16 {
		return fmt.Errorf("window %s: stored operator state of %d bytes, want 16", o.store, len(b))
	}
	o.time = int64(binary.BigEndian.Uint64(b))
	o.seq = binary.BigEndian.Uint64(b[8:])
	return nil
}

// loadCloseQueue queues every stored window that has not closed by the
// operator's time: those are the ones not emitted yet, since time moving
// past a window's close emits it at once.
func (o *operator[K, V, A]) loadCloseQueue() error {
	o.closing = newCloseQueue()
	return o.scan([]byte{tagWindow}, []byte{tagWindow + 1}, func(k, _ []byte) error {
		sw, err := parseWindowKey(k, o.def.kind == sessionKind)
		if err != nil {
			return fmt.Errorf("window %s: %w", o.store, err)
		}
		_, end := o.def.bounds(sw)
		if close := o.def.closeAt(end); close > o.time {
			o.closing.add(close, k)
		}
		return nil
	})
}

// saveMeta stores the operator's time and sequence. It runs whenever time
// moves, as often as once per record, so it encodes into a reused buffer
// (the store copies the value).
func (o *operator[K, V, A]) saveMeta() error {
	o.metaBuf = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(o.metaBuf[:0], uint64(o.time)), o.seq)
	return o.st.Put(metaKey, o.metaBuf)
}

// receive aggregates one record: time moves on (closing windows), then the
// record updates its open windows, or is late.
func (o *operator[K, V, A]) receive(r dsl.Record[K, V]) error {
	if r.Tombstone {
		return nil // as Kafka Streams: null values do not aggregate
	}
	kb, err := o.recKey.Encode(o.store, r.Key)
	if err != nil {
		return fmt.Errorf("window %s: key: %w", o.store, err)
	}
	// Windows that close now are emitted before the record writes
	// anything: the record's own windows are open, and no write may
	// expire a window that is still to be emitted.
	if err := o.advance(max(o.tc.StreamTime(), r.Timestamp)); err != nil {
		return err
	}
	o.idleWall, o.idleTime = o.tc.Now().UnixMilli(), o.time
	late := r.Timestamp < 0 // before the epoch: in no window
	if !late {
		switch o.def.kind {
		case timeKind:
			late, err = o.timeWindows(kb, r)
		case slidingKind:
			late, err = o.slidingWindows(kb, r)
		case sessionKind:
			late, err = o.sessionWindows(kb, r)
		}
		if err != nil {
			return err
		}
	}
	if late {
		return o.lateRecord(r)
	}
	return nil
}

// advance moves the operator's time to t if that is later, emitting the
// windows it closes under EmitFinal.
func (o *operator[K, V, A]) advance(t int64) error {
	if t > o.time {
		o.time = t
		if err := o.saveMeta(); err != nil {
			return err
		}
	}
	// Windows can be due without time moving: those left when emitting
	// an earlier one failed.
	if o.cfg.emitFinal && o.closing.next() <= o.time {
		return o.emitClosed()
	}
	return nil
}

// idleCheck is the wall-clock punctuation of CloseIdleAfter.
func (o *operator[K, V, A]) idleCheck(now int64) error {
	if o.time == math.MinInt64 {
		return nil // no record yet: nothing to close
	}
	idle := now - o.idleWall
	if idle < ms(o.cfg.idle) {
		return nil
	}
	return o.advance(o.idleTime + idle)
}

func (o *operator[K, V, A]) isClosed(end int64) bool { return o.time >= o.def.closeAt(end) }

// emitClosed forwards, once, every window whose close time has come, in
// order of close time, then of key.
func (o *operator[K, V, A]) emitClosed() error {
	for o.closing.next() <= o.time {
		close, keys := o.closing.next(), o.closing.pop()
		if err := o.emitWindows(close, keys); err != nil {
			return err
		}
	}
	return nil
}

// emitWindows emits the windows keys, all closing at close. If one fails
// (an error or a panic downstream, which goes with the record being
// processed), the ones after it stay queued, due.
func (o *operator[K, V, A]) emitWindows(close int64, keys []string) error {
	done := 0
	defer func() {
		for _, k := range keys[min(done+1, len(keys)):] {
			o.closing.add(close, []byte(k))
		}
	}()
	for ; done < len(keys); done++ {
		if err := o.emitWindow(keys[done]); err != nil {
			return err
		}
	}
	return nil
}

// emitWindow forwards a closed window, unless a session merge removed it.
func (o *operator[K, V, A]) emitWindow(k string) error {
	o.emitKey = append(o.emitKey[:0], k...)
	// forward is done with the value before the next emit.
	val, ok, err := o.emitRead.Read(o.emitKey)
	if err != nil || !ok {
		return err
	}
	return o.forward(o.emitKey, val)
}

// forwardFlushed forwards a cache flush's window entries downstream (emit
// on update): puts as updates, deletes (sessions merged away) as
// tombstones.
func (o *operator[K, V, A]) forwardFlushed(entries []storage.Mutation) error {
	for _, m := range entries {
		if len(m.Key) == 0 || m.Key[0] != tagWindow {
			continue
		}
		if !m.Delete {
			if err := o.forward(m.Key, m.Value); err != nil {
				return err
			}
			continue
		}
		k, err := o.windowedKey(m.Key)
		if err != nil {
			return err
		}
		if err := o.next.Receive(dsl.Record[Key[K], A]{Key: k, Tombstone: true, Timestamp: o.time}); err != nil {
			return err
		}
	}
	return nil
}

// forward sends one window's aggregate downstream, with the timestamp of
// the window's newest record.
func (o *operator[K, V, A]) forward(wkey, val []byte) error {
	k, err := o.windowedKey(wkey)
	if err != nil {
		return err
	}
	ts, acc, err := o.decode(val)
	if err != nil {
		return err
	}
	return o.next.Receive(dsl.Record[Key[K], A]{Key: k, Value: acc, Timestamp: ts})
}

// windowedKey turns a window entry's key into the table's key.
func (o *operator[K, V, A]) windowedKey(wkey []byte) (Key[K], error) {
	sw, err := parseWindowKey(wkey, o.def.kind == sessionKind)
	if err != nil {
		return Key[K]{}, fmt.Errorf("window %s: %w", o.store, err)
	}
	k, err := o.ks.Deserialize(o.store, sw.kb)
	if err != nil {
		return Key[K]{}, fmt.Errorf("window %s: stored key: %w", o.store, err)
	}
	start, end := o.def.bounds(sw)
	return Key[K]{Key: k, Start: start, End: end}, nil
}

// bounds returns the [Start, End) of a stored window.
func (d definition) bounds(sw storedWindow) (int64, int64) {
	switch d.kind {
	case slidingKind:
		return sw.start, sw.start + d.size + 1
	case sessionKind:
		return sw.start, sw.t + 1
	}
	return sw.start, sw.start + d.size
}

func (o *operator[K, V, A]) decode(val []byte) (int64, A, error) {
	var zero A
	ts, vb, err := dsl.DecodeTimestamped(val)
	if err != nil {
		return 0, zero, fmt.Errorf("window %s: %w", o.store, err)
	}
	acc, err := o.as.Deserialize(o.store, vb)
	if err != nil {
		return 0, zero, fmt.Errorf("window %s: stored aggregate: %w", o.store, err)
	}
	return ts, acc, nil
}

// put stores a window's aggregate with its newest record's timestamp.
func (o *operator[K, V, A]) put(wkey []byte, ts int64, acc A) error {
	v, err := o.encode(ts, acc)
	if err != nil {
		return err
	}
	return o.st.Put(wkey, v)
}

// encode is a window's stored value: the newest record's timestamp, then
// the aggregate. It is built in valBuf.
func (o *operator[K, V, A]) encode(ts int64, acc A) ([]byte, error) {
	var err error
	o.valBuf, err = o.aggEnc.AppendTo(dsl.AppendTimestamp(o.valBuf[:0], ts), o.store, acc)
	if err != nil {
		return nil, fmt.Errorf("window %s: aggregate: %w", o.store, err)
	}
	return o.valBuf, nil
}

// update folds a record into the window wkey ending at end, creating the
// window on its first record.
func (o *operator[K, V, A]) update(wkey []byte, end int64, r dsl.Record[K, V]) error {
	o.cur, o.curKey, o.curEnd = r, wkey, end
	err := o.upd.Update(wkey, o.foldFn)
	o.cur, o.curKey = dsl.Record[K, V]{}, nil
	return err
}

// foldCur returns the value of the window update is at once cur is folded
// into it (old, if found).
func (o *operator[K, V, A]) foldCur(old []byte, found bool) ([]byte, error) {
	if !found {
		o.opened(o.curKey, o.curEnd)
		return o.encode(o.cur.Timestamp, o.first(o.cur.Key, o.cur.Value))
	}
	return o.folded(old, o.cur)
}

// fold folds a record into an existing window whose stored value is old.
func (o *operator[K, V, A]) fold(wkey, old []byte, r dsl.Record[K, V]) error {
	v, err := o.folded(old, r)
	if err != nil {
		return err
	}
	return o.st.Put(wkey, v)
}

// folded returns a window's stored value old with r folded in.
func (o *operator[K, V, A]) folded(old []byte, r dsl.Record[K, V]) ([]byte, error) {
	ts, acc, err := o.decode(old)
	if err != nil {
		return nil, err
	}
	return o.encode(max(ts, r.Timestamp), o.add(r.Key, r.Value, acc))
}

// create stores a new window.
func (o *operator[K, V, A]) create(wkey []byte, end, ts int64, acc A) error {
	o.opened(wkey, end)
	return o.put(wkey, ts, acc)
}

// opened notes a new window: under EmitFinal it is to be emitted when it
// closes.
func (o *operator[K, V, A]) opened(wkey []byte, end int64) {
	if o.cfg.emitFinal {
		o.closing.add(o.def.closeAt(end), wkey)
	}
}

// lateRecord counts a late record and hands it to the handlers.
func (o *operator[K, V, A]) lateRecord(r dsl.Record[K, V]) error {
	o.late.Add(1)
	for _, f := range o.onLate {
		f(r.Key, r.Value, r.Timestamp)
	}
	topic := o.cfg.lateTopic
	if topic == "" {
		return nil
	}
	kb, err := o.ks.Serialize(topic, r.Key)
	if err != nil {
		return fmt.Errorf("window %s: late record key: %w", o.store, err)
	}
	vb, err := o.vs.Serialize(topic, r.Value)
	if err != nil {
		return fmt.Errorf("window %s: late record value: %w", o.store, err)
	}
	headers := append(append([]batch.RecordHeader(nil), r.Headers...),
		batch.RecordHeader{Key: "eddy.late.time", Value: []byte(strconv.FormatInt(o.time, 10))},
		batch.RecordHeader{Key: "eddy.task", Value: []byte(o.tc.TaskID().String())})
	return o.tc.Send(topic, -1, kb, vb, r.Timestamp, headers)
}
