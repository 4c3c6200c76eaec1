package window

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// Key is the key of a windowed aggregate: the record key and the window.
// Start and End are Unix milliseconds; the window covers [Start, End), End
// excluded, for every kind of window: a tumbling minute is [0, 60000), the
// sliding window of a record at t with difference d is [t-d, t+1), and a
// session of records at 5 and 8 is [5, 9).
type Key[K any] struct {
	Key        K
	Start, End int64
}

// StartTime returns Start as a time (UTC).
func (k Key[K]) StartTime() time.Time { return time.UnixMilli(k.Start).UTC() }

// EndTime returns End as a time (UTC).
func (k Key[K]) EndTime() time.Time { return time.UnixMilli(k.End).UTC() }

func (k Key[K]) String() string { return fmt.Sprintf("%v@[%d,%d)", k.Key, k.Start, k.End) }

// keyTrailer is the bytes a windowed key adds to the serialized key.
const keyTrailer = 16

// ErrShortKey is returned when deserializing a windowed key of fewer than
// 16 bytes.
var ErrShortKey = errors.New("window: windowed key shorter than its 16-byte window")

// KeySerde returns the serde of windowed keys whose record keys ks
// serializes. The format is the serialized key, then Start and End as
// 8-byte big-endian signed integers (Kafka Streams' time-windowed format
// carries the start only; eddy's carries both for every kind of window).
// The tables of Count, Aggregate and Reduce use it, so ToStream().To writes
// their windowed keys with it when no key serde is given.
func KeySerde[K any](ks serde.Serde[K]) serde.Serde[Key[K]] { return &keySerde[K]{inner: ks} }

// keySerde is also how a windowed table's queries find their store: the
// aggregating operation fills in what it knows.
type keySerde[K any] struct {
	inner serde.Serde[K]
	store string     // the window store, "" for a serde made by KeySerde
	def   definition // the windows of that store
}

func (s *keySerde[K]) Serialize(topic string, k Key[K]) ([]byte, error) {
	kb, err := s.inner.Serialize(topic, k.Key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(kb), len(kb)+keyTrailer)
	copy(out, kb)
	out = binary.BigEndian.AppendUint64(out, uint64(k.Start))
	return binary.BigEndian.AppendUint64(out, uint64(k.End)), nil
}

func (s *keySerde[K]) Deserialize(topic string, data []byte) (Key[K], error) {
	if len(data) < keyTrailer {
		return Key[K]{}, fmt.Errorf("%w: %d bytes in %s", ErrShortKey, len(data), topic)
	}
	n := len(data) - keyTrailer
	k, err := s.inner.Deserialize(topic, data[:n])
	if err != nil {
		return Key[K]{}, err
	}
	return Key[K]{Key: k,
		Start: int64(binary.BigEndian.Uint64(data[n:])),
		End:   int64(binary.BigEndian.Uint64(data[n+8:]))}, nil
}

// ByKey partitions a windowed table's records by their record key alone,
// as Kafka's default partitioner would place that key, so that every window
// of a key lands on the partition the key's records came from (the default
// would hash the window in too). Give it to To:
//
//	counts.ToStream().To("counts", nil, nil, window.ByKey[string, int64](serde.String))
func ByKey[K, V any](ks serde.Serde[K]) stream.ToOption[Key[K], V] {
	return stream.WithPartitioner(func(key Key[K], _ V, n int32) int32 {
		kb, err := ks.Serialize("", key.Key)
		if err != nil {
			return 0 // the sink's own serialization reports the error
		}
		return partition.ForKey(kb, n)
	})
}
