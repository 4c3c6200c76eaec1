package streamtest_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
)

// event is one random input record: a few hundred of them over a handful
// of keys, with timestamps that go back as often as forward.
type event struct {
	key       string
	value     int64
	ts        int64 // Unix ms
	tombstone bool
}

const baseTS = int64(1_700_000_000_000)

// randomEvents returns n events over keys k0..k(keys-1); when tombstones
// is set about one in ten has a null value.
func randomEvents(seed uint64, n, keys int, tombstones bool) []event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	evs := make([]event, n)
	for i := range evs {
		evs[i] = event{
			key:   fmt.Sprintf("k%d", r.IntN(keys)),
			value: r.Int64N(200) - 100,
			// Mostly increasing, often earlier than the previous one.
			ts:        baseTS + int64(i)*1000 + r.Int64N(20_000) - 10_000,
			tombstone: tombstones && r.IntN(10) == 0,
		}
		if evs[i].tombstone {
			evs[i].value = 0
		}
	}
	return evs
}

// pipeAll pipes events into an input topic of string keys and int64 values.
func pipeAll(t *testing.T, in *streamtest.InputTopic[string, int64], evs []event) {
	t.Helper()
	for i, e := range evs {
		var err error
		if e.tombstone {
			err = in.PipeTombstone(e.key, time.UnixMilli(e.ts))
		} else {
			err = in.Pipe(e.key, e.value, time.UnixMilli(e.ts))
		}
		if err != nil {
			t.Fatalf("event %d (%+v): %v", i, e, err)
		}
	}
}

// rec is an expected output record.
type rec[K, V any] struct {
	Key       K
	Value     V
	TS        int64
	Tombstone bool
	Partition int32
}

// partitionOf is Kafka's default partition of a serialized key.
func partitionOf[K any](ks serde.Serde[K], key K, n int32) int32 {
	b, err := ks.Serialize("", key)
	if err != nil {
		panic(err)
	}
	return partition.ForKey(b, n)
}

// checkRecords compares what a topic received with what the model says,
// record by record.
func checkRecords[K, V any](t *testing.T, topic string, got []streamtest.Record[K, V], want []rec[K, V]) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d", topic, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g := got[i]
		gr := rec[K, V]{Key: g.Key, Value: g.Value, TS: g.Timestamp, Tombstone: g.Tombstone, Partition: g.Partition}
		if !reflect.DeepEqual(gr, want[i]) {
			t.Fatalf("%s record %d: got %+v, want %+v", topic, i, gr, want[i])
		}
	}
}

// start builds a driver for b and closes it at the end of the test.
func start(t *testing.T, b *stream.Builder, opts ...streamtest.Option) *streamtest.Driver {
	t.Helper()
	d, err := streamtest.New(b, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil && d.Err() == nil {
			t.Errorf("close: %v", err)
		}
	})
	return d
}
