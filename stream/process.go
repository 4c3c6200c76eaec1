package stream

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
)

// Processor is a custom operator, for what the DSL's operators cannot say:
// it sees every record with its timestamp and headers, keeps state in its
// own stores, forwards any number of records, and acts on a schedule
// (punctuations). K, V are its input types and K2, V2 what it forwards.
//
// Each task (input partition) gets its own Processor from the supplier
// given to Process, so a Processor needs no locking: Init, Process, the
// punctuations it schedules and Close are all called from the task's
// goroutine, one at a time.
type Processor[K, V, K2, V2 any] interface {
	// Init is called once when the task starts, after its stores are
	// restored and before any record: keep pc, open stores, schedule
	// punctuations. An error stops the app.
	Init(pc *ProcessorContext[K2, V2]) error
	// Process handles one record. Its error is handled by the app's
	// processing-error policy, with the record's coordinates.
	Process(r Record[K, V]) error
	// Close is called once when the task closes, after its final commit:
	// release resources here. Records forwarded or stores written in Close
	// are not committed.
	Close() error
}

// Header is a record header: a string key and a byte value.
type Header = batch.RecordHeader

// Record is a record as a Processor sees and forwards it. A Tombstone
// carries a key and no value: a delete, for tables and compacted topics.
type Record[K, V any] struct {
	Key       K
	Value     V
	Timestamp int64 // event time, Unix milliseconds
	Headers   []Header
	Tombstone bool
}

// PunctuationType is the clock that drives a punctuation.
type PunctuationType int

const (
	// StreamTime punctuations fire when the task's stream time (the
	// largest record timestamp it has processed) passes their schedule, so
	// they follow the data: they do not fire while no records arrive, and
	// reprocessing the same input fires them at the same points.
	StreamTime PunctuationType = iota
	// WallClock punctuations fire on the machine's clock, whether records
	// arrive or not.
	WallClock
)

func (t PunctuationType) String() string {
	switch t {
	case StreamTime:
		return "StreamTime"
	case WallClock:
		return "WallClock"
	}
	return fmt.Sprintf("PunctuationType(%d)", int(t))
}

// ProcessorContext is what a task offers its Processor: forwarding, stores,
// punctuations, and where the current record comes from. It is valid from
// Init until Close and must only be used from the Processor's own calls.
type ProcessorContext[K, V any] struct {
	tc     topology.TaskContext
	next   dsl.Receiver[K, V]
	name   string
	stores []string
}

// Forward sends a record to the operators downstream of the processor,
// which run before Forward returns. It returns their error.
func (pc *ProcessorContext[K, V]) Forward(r Record[K, V]) error {
	return pc.next.Receive(dsl.Record[K, V]{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers, Tombstone: r.Tombstone})
}

// Store returns one of the processor's stores (declared with WithStore or
// WithMemoryStore) as bytes; TypedStore gives a typed view of it. Writes
// go through a cache that is flushed on commit, and reach the store's
// changelog topic then.
func (pc *ProcessorContext[K, V]) Store(name string) (storage.Store, error) {
	for _, s := range pc.stores {
		if s == name {
			st, err := pc.tc.Store(name)
			if err != nil {
				return nil, fmt.Errorf("processor %s: %w", pc.name, err)
			}
			return st, nil
		}
	}
	return nil, fmt.Errorf("processor %s: no store %q; declare it with WithStore or WithMemoryStore (declared: %v)", pc.name, name, pc.stores)
}

// Schedule calls fn every interval (at least a millisecond) on the given
// clock, with the stream time or the wall-clock time (Unix milliseconds)
// that triggered it. Schedules are aligned to the first one: a late call
// does not shift the later ones. fn's error stops the app (for stream-time
// punctuations, it is handled like the error of the record that advanced
// stream time).
func (pc *ProcessorContext[K, V]) Schedule(interval time.Duration, kind PunctuationType, fn func(timestamp int64) error) error {
	if interval < time.Millisecond {
		return fmt.Errorf("processor %s: punctuation interval %v is below a millisecond", pc.name, interval)
	}
	if fn == nil {
		return fmt.Errorf("processor %s: nil punctuation function", pc.name)
	}
	var k topology.PunctuationType
	switch kind {
	case StreamTime:
		k = topology.StreamTime
	case WallClock:
		k = topology.WallClock
	default:
		return fmt.Errorf("processor %s: unknown punctuation type %v", pc.name, kind)
	}
	name := pc.name
	pc.tc.Schedule(interval, k, func(ts int64) error {
		if err := fn(ts); err != nil {
			return fmt.Errorf("processor %s: %v punctuation at %d: %w", name, kind, ts, err)
		}
		return nil
	})
	return nil
}

// StreamTime is the largest record timestamp the task has processed (-1
// before the first record).
func (pc *ProcessorContext[K, V]) StreamTime() int64 { return pc.tc.StreamTime() }

// Now is the app's wall clock (Config.Now).
func (pc *ProcessorContext[K, V]) Now() time.Time { return pc.tc.Now() }

// TaskID names the task, as "<sub-topology>_<partition>".
func (pc *ProcessorContext[K, V]) TaskID() string { return pc.tc.TaskID().String() }

// Partition is the input partition number the task processes.
func (pc *ProcessorContext[K, V]) Partition() int32 { return pc.tc.TaskID().Partition }

// RecordTopic is the input topic of the record being processed (in a
// stream-time punctuation: of the record that advanced stream time), or ""
// in Init, wall-clock punctuations and Close.
func (pc *ProcessorContext[K, V]) RecordTopic() string {
	if r := pc.tc.Current(); r != nil {
		return r.Topic
	}
	return ""
}

// RecordPartition is the input partition of the record being processed
// (as for RecordTopic), or -1 when there is none.
func (pc *ProcessorContext[K, V]) RecordPartition() int32 {
	if r := pc.tc.Current(); r != nil {
		return r.Partition
	}
	return -1
}

// RecordOffset is the offset of the record being processed (as for
// RecordTopic), or -1 when there is none.
func (pc *ProcessorContext[K, V]) RecordOffset() int64 {
	if r := pc.tc.Current(); r != nil {
		return r.Offset
	}
	return -1
}

// Process runs a custom Processor on each record of s and returns the
// stream of what it forwards. supplier is called once per task and must
// return a new Processor each time. Options: Named (the node's name),
// Serdes (the output's serdes, needed to write or group it), WithStore and
// WithMemoryStore (the processor's stores).
//
// A processor may change keys, so grouping its output by key repartitions
// it first.
func Process[K, V, K2, V2 any](s Stream[K, V], supplier func() Processor[K, V, K2, V2], opts ...ProcessOption) Stream[K2, V2] {
	in := s.s
	var c processConfig
	for _, o := range opts {
		if o != nil {
			o.applyProcess(&c)
		}
	}
	var so serdeOptions[K2, V2]
	var mismatched []any
	for _, o := range c.serdes {
		if typed, ok := o.(SerdeOption[K2, V2]); ok {
			typed(&so)
		} else {
			mismatched = append(mismatched, o)
		}
	}
	if c.name == "" {
		c.name = so.name
	}
	name := in.B.Name(c.name, "PROCESSOR")
	for _, o := range mismatched {
		in.B.Fail(fmt.Errorf("process %s: option %T does not match the processor's output types %s", name, o, typeNames[K2, V2]()))
	}
	if supplier == nil {
		in.B.Fail(fmt.Errorf("process %s: nil processor supplier", name))
	}
	stores := make([]string, 0, len(c.stores))
	for _, st := range c.stores {
		spec := &topology.StoreSpec{Name: st.name, Changelog: in.B.InternalTopic(st.name, "changelog"), InMemory: st.inMemory}
		if st.name == "" {
			in.B.Fail(fmt.Errorf("process %s: a store needs a name", name))
			continue
		}
		if err := in.B.Topo.AddStore(spec); err != nil {
			in.B.Fail(fmt.Errorf("process %s: %w", name, err))
			continue
		}
		stores = append(stores, st.name)
	}
	out := dsl.Then(in, name, stores, so.ks, so.vs,
		func(tc topology.TaskContext, next dsl.Receiver[K2, V2]) (dsl.Receiver[K, V], error) {
			return startProcessor(tc, next, name, stores, supplier)
		})
	out.KeyChanged = true
	return Stream[K2, V2]{out}
}

// startProcessor makes and initializes one task's processor and registers
// its Close with the task.
func startProcessor[K, V, K2, V2 any](tc topology.TaskContext, next dsl.Receiver[K2, V2], name string, stores []string,
	supplier func() Processor[K, V, K2, V2]) (dsl.Receiver[K, V], error) {
	var p Processor[K, V, K2, V2]
	// The engine builds tasks outside its panic guard, so supplier and Init
	// get their own.
	if err := recoverPanic(func() error { p = supplier(); return nil }); err != nil {
		return nil, fmt.Errorf("processor %s: supplier: %w", name, err)
	}
	if p == nil {
		return nil, fmt.Errorf("processor %s: the supplier returned nil", name)
	}
	pc := &ProcessorContext[K2, V2]{tc: tc, next: next, name: name, stores: stores}
	if err := recoverPanic(func() error { return p.Init(pc) }); err != nil {
		return nil, fmt.Errorf("processor %s: init in task %s: %w", name, tc.TaskID(), err)
	}
	tc.OnClose(func() error {
		if err := p.Close(); err != nil {
			return fmt.Errorf("processor %s: close: %w", name, err)
		}
		return nil
	})
	return dsl.ReceiverFunc[K, V](func(r dsl.Record[K, V]) error {
		err := p.Process(Record[K, V]{Key: r.Key, Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers, Tombstone: r.Tombstone})
		if err != nil {
			return fmt.Errorf("processor %s: %w", name, err)
		}
		return nil
	}), nil
}

func recoverPanic(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

func typeNames[K, V any]() string {
	var k K
	var v V
	return fmt.Sprintf("(%T, %T)", k, v)
}

// ProcessOption configures Process. Named, Serdes, As, WithStore and
// WithMemoryStore are ProcessOptions; the option type is not generic so
// that the store and name options need no type arguments.
type ProcessOption interface {
	applyProcess(c *processConfig)
}

type processConfig struct {
	name   string
	serdes []any // SerdeOption[K2, V2], checked against the output types in Process
	stores []storeDecl
}

type storeDecl struct {
	name     string
	inMemory bool
}

func (o Option) applyProcess(c *processConfig) {
	var oo options
	o(&oo)
	if oo.name != "" {
		c.name = oo.name
	}
}

func (o SerdeOption[K, V]) applyProcess(c *processConfig) { c.serdes = append(c.serdes, o) }

type storeOption storeDecl

func (o storeOption) applyProcess(c *processConfig) { c.stores = append(c.stores, storeDecl(o)) }

// WithStore gives the processor a LevelDB store named name, backed by the
// compacted changelog topic "<app id>-<name>-changelog", from which it is
// restored when local state is missing. Store names are global to the
// topology and must stay stable across versions of an app.
func WithStore(name string) ProcessOption { return storeOption{name: name} }

// WithMemoryStore gives the processor an in-memory store, changelogged
// like WithStore's and rebuilt from its changelog at each start.
func WithMemoryStore(name string) ProcessOption { return storeOption{name: name, inMemory: true} }

// KeyValueStore is a typed view of a byte-level store: keys and values go
// through serdes. Entries are ordered by their serialized keys.
type KeyValueStore[K, V any] struct {
	raw storage.Store
	ks  serde.Serde[K]
	vs  serde.Serde[V]
}

// TypedStore returns a typed view of a store (from ProcessorContext.Store).
func TypedStore[K, V any](raw storage.Store, ks serde.Serde[K], vs serde.Serde[V]) KeyValueStore[K, V] {
	return KeyValueStore[K, V]{raw: raw, ks: ks, vs: vs}
}

// Raw returns the underlying byte-level store.
func (s KeyValueStore[K, V]) Raw() storage.Store { return s.raw }

func (s KeyValueStore[K, V]) key(k K) ([]byte, error) {
	kb, err := s.ks.Serialize(s.raw.Name(), k)
	if err != nil {
		return nil, fmt.Errorf("store %s: key: %w", s.raw.Name(), err)
	}
	return kb, nil
}

// Get returns key's value and whether it is present.
func (s KeyValueStore[K, V]) Get(key K) (V, bool, error) {
	var zero V
	kb, err := s.key(key)
	if err != nil {
		return zero, false, err
	}
	vb, ok, err := s.raw.Get(kb)
	if err != nil || !ok {
		return zero, false, err
	}
	v, err := s.vs.Deserialize(s.raw.Name(), vb)
	if err != nil {
		return zero, false, fmt.Errorf("store %s: stored value: %w", s.raw.Name(), err)
	}
	return v, true, nil
}

// Put sets key's value.
func (s KeyValueStore[K, V]) Put(key K, value V) error {
	kb, err := s.key(key)
	if err != nil {
		return err
	}
	vb, err := s.vs.Serialize(s.raw.Name(), value)
	if err != nil {
		return fmt.Errorf("store %s: value: %w", s.raw.Name(), err)
	}
	return s.raw.Put(kb, vb)
}

// Delete removes key.
func (s KeyValueStore[K, V]) Delete(key K) error {
	kb, err := s.key(key)
	if err != nil {
		return err
	}
	return s.raw.Delete(kb)
}

// ForEach calls fn with every entry in serialized-key order, stopping at
// fn's first error. It walks a snapshot, so fn may Put and Delete.
func (s KeyValueStore[K, V]) ForEach(fn func(key K, value V) error) error {
	it, err := s.raw.Range(nil, nil)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.raw.Name(), err)
	}
	defer it.Close()
	for it.Next() {
		k, err := s.ks.Deserialize(s.raw.Name(), it.Key())
		if err != nil {
			return fmt.Errorf("store %s: stored key: %w", s.raw.Name(), err)
		}
		v, err := s.vs.Deserialize(s.raw.Name(), it.Value())
		if err != nil {
			return fmt.Errorf("store %s: stored value: %w", s.raw.Name(), err)
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("store %s: %w", s.raw.Name(), err)
	}
	return nil
}
