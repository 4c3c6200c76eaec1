package table_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// The join tests feed random, interleaved inputs with out-of-order
// timestamps to the synchronous driver and compare what comes out with a
// model computed here from the same inputs, record by record.

const baseTS = int64(1_700_000_000_000)

// event is one record piped into one of a test's topics.
type event struct {
	topic     string
	key       string
	keyless   bool
	value     int64
	ts        int64
	tombstone bool
}

// eventMix says how a topic's events look.
type eventMix struct {
	topic      string
	weight     int // relative share of the events
	keys       int // keys k0..k(keys-1)
	tombstones int // percent of records with a null value
	keyless    int // percent of records without a key
}

// randomEvents interleaves n events over the mixes, with timestamps that
// go back as often as forward.
func randomEvents(seed uint64, n int, mixes ...eventMix) []event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	total := 0
	for _, m := range mixes {
		total += m.weight
	}
	evs := make([]event, n)
	for i := range evs {
		pick := r.IntN(total)
		m := mixes[0]
		for _, c := range mixes {
			if pick < c.weight {
				m = c
				break
			}
			pick -= c.weight
		}
		e := event{topic: m.topic, key: fmt.Sprintf("k%d", r.IntN(m.keys)), value: r.Int64N(200) - 100,
			ts: baseTS + int64(i)*1000 + r.Int64N(20_000) - 10_000}
		if r.IntN(100) < m.tombstones {
			e.tombstone, e.value = true, 0
		} else if r.IntN(100) < m.keyless {
			e.keyless, e.key = true, ""
		}
		evs[i] = e
	}
	return evs
}

// pipeEvents pipes events into their topics (string keys, int64 values).
func pipeEvents(t *testing.T, d *streamtest.Driver, evs []event) {
	t.Helper()
	inputs := map[string]*streamtest.InputTopic[string, int64]{}
	for i, e := range evs {
		in := inputs[e.topic]
		if in == nil {
			in = streamtest.Input(d, e.topic, serde.String, serde.Int64)
			inputs[e.topic] = in
		}
		var err error
		switch {
		case e.tombstone:
			err = in.PipeRaw([]byte(e.key), nil, timeOf(e.ts))
		case e.keyless:
			vb, _ := serde.Int64.Serialize(e.topic, e.value)
			err = in.PipeRaw(nil, vb, timeOf(e.ts))
		default:
			err = in.PipeAt(e.key, e.value, e.ts)
		}
		if err != nil {
			t.Fatalf("event %d (%+v): %v", i, e, err)
		}
	}
}

// rec is an output record, read or expected.
type rec[V any] struct {
	Partition int32
	Key       string
	Value     V
	TS        int64
	Tombstone bool
}

// checkOutput compares every record written to topic with the model's.
func checkOutput[V any](t *testing.T, d *streamtest.Driver, topic string, vs serde.Serde[V], want []rec[V]) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the model expects no records; the test checks nothing", topic)
	}
	out := streamtest.Output(d, topic, serde.String, vs)
	got := out.ReadAll()
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range min(len(got), len(want)) {
		g := rec[V]{Partition: got[i].Partition, Key: got[i].Key, Value: got[i].Value, TS: got[i].Timestamp, Tombstone: got[i].Tombstone}
		if !reflect.DeepEqual(g, want[i]) {
			t.Fatalf("%s record %d: got %+v, want %+v", topic, i, g, want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", topic, len(got), len(want))
	}
}

// checkContents compares a materialized table with a map, entry by entry.
func checkContents[V any](t *testing.T, d *streamtest.Driver, tbl table.Table[string, V], want map[string]V) {
	t.Helper()
	got, err := streamtest.TableContents(d, tbl)
	if err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(want)) // string keys serialize as themselves: store order
	gotKV := append([]stream.KeyValue[string, V]{}, got...)
	wantKV := make([]stream.KeyValue[string, V], len(keys))
	for i, k := range keys {
		wantKV[i] = stream.KeyValue[string, V]{Key: k, Value: want[k]}
	}
	if !reflect.DeepEqual(gotKV, wantKV) {
		t.Fatalf("table %s:\n got %v\nwant %v", tbl.StoreName(), gotKV, wantKV)
	}
	for _, kv := range wantKV {
		v, ok, err := streamtest.TableValue(d, tbl, kv.Key)
		if err != nil || !ok || !reflect.DeepEqual(v, kv.Value) {
			t.Fatalf("table %s: lookup %s = %v, %v, %v; want %v", tbl.StoreName(), kv.Key, v, ok, err, kv.Value)
		}
	}
}

// partitionOf is Kafka's default partition of a string key.
func partitionOf(key string, n int32) int32 {
	kb, _ := serde.String.Serialize("", key)
	return partition.ForKey(kb, n)
}

// newDriver builds a driver for b, closed at the end of the test.
func newDriver(t *testing.T, b *stream.Builder, opts ...streamtest.Option) *streamtest.Driver {
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

// streamTimes tracks each task's stream time, the largest timestamp its
// partition of the input topics has seen: what a table's delete carries.
type streamTimes map[int32]int64

func (s streamTimes) see(p int32, ts int64) int64 {
	if cur, ok := s[p]; !ok || ts > cur {
		s[p] = ts
	}
	return s[p]
}

func timeOf(ts int64) time.Time { return time.UnixMilli(ts) }
