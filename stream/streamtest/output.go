package streamtest

import (
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// Record is a record the topology wrote to a topic.
type Record[K, V any] struct {
	Topic     string
	Partition int32
	// Offset is the record's offset in its partition: records piped in
	// and sent to the same topic share the numbering.
	Offset int64
	// Key is K's zero value for a record without a key.
	Key K
	// Value is V's zero value for a tombstone.
	Value     V
	Tombstone bool
	// Timestamp is in Unix milliseconds.
	Timestamp int64
	Headers   []stream.Header
}

// Time returns the timestamp as a time.Time.
func (r Record[K, V]) Time() time.Time { return time.UnixMilli(r.Timestamp) }

// Header returns the value of the last header named key.
func (r Record[K, V]) Header(key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// OutputTopic reads the records written to a topic, across its partitions
// in the order they were written, each once: every read consumes.
type OutputTopic[K, V any] struct {
	d     *Driver
	topic string
	ks    serde.Serde[K]
	vs    serde.Serde[V]
	next  int // index of the first unread record
	err   error
}

// Output returns a reader of topic that deserializes records with ks and
// vs; with a nil ks keys are left zero. Any topic can be read: outputs,
// repartition and changelog topics, dead-letter topics.
func Output[K, V any](d *Driver, topic string, ks serde.Serde[K], vs serde.Serde[V]) *OutputTopic[K, V] {
	return &OutputTopic[K, V]{d: d, topic: topic, ks: ks, vs: vs}
}

// Read returns the next unread record. It returns false when there is
// none, or when it cannot be deserialized: Err then says why, and the
// record stays unread.
func (o *OutputTopic[K, V]) Read() (Record[K, V], bool) {
	var rec Record[K, V]
	recs := o.d.eng.Output(o.topic)
	if o.err != nil || o.next >= len(recs) {
		return rec, false
	}
	r := recs[o.next]
	rec = Record[K, V]{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Headers: r.Headers}
	if r.Key != nil && o.ks != nil {
		k, err := o.ks.Deserialize(o.topic, r.Key)
		if err != nil {
			o.err = fmt.Errorf("streamtest: output %s-%d at offset %d: key: %w", r.Topic, r.Partition, r.Offset, err)
			return Record[K, V]{}, false
		}
		rec.Key = k
	}
	if r.Value == nil {
		rec.Tombstone = true
	} else {
		if o.vs == nil {
			o.err = fmt.Errorf("%w: output %s was made without a value serde", errNoSerde, o.topic)
			return Record[K, V]{}, false
		}
		v, err := o.vs.Deserialize(o.topic, r.Value)
		if err != nil {
			o.err = fmt.Errorf("streamtest: output %s-%d at offset %d: value: %w", r.Topic, r.Partition, r.Offset, err)
			return Record[K, V]{}, false
		}
		rec.Value = v
	}
	o.next++
	return rec, true
}

// ReadAll returns every unread record (stopping early if one cannot be
// deserialized: check Err).
func (o *OutputTopic[K, V]) ReadAll() []Record[K, V] {
	var out []Record[K, V]
	for {
		r, ok := o.Read()
		if !ok {
			return out
		}
		out = append(out, r)
	}
}

// Unread returns how many records are written and not read yet.
func (o *OutputTopic[K, V]) Unread() int { return len(o.d.eng.Output(o.topic)) - o.next }

// Err returns the deserialization error that stopped reading, if any.
func (o *OutputTopic[K, V]) Err() error { return o.err }

// LatestByKey reads every unread record and returns each key's last value,
// a tombstone deleting the key: the table the topic describes, as far as
// the records read. It is a function, not a method, because it needs
// comparable keys and OutputTopic does not (Go methods cannot add
// constraints). Check o.Err afterwards.
func LatestByKey[K comparable, V any](o *OutputTopic[K, V]) map[K]V {
	m := map[K]V{}
	for _, r := range o.ReadAll() {
		if r.Tombstone {
			delete(m, r.Key)
		} else {
			m[r.Key] = r.Value
		}
	}
	return m
}
