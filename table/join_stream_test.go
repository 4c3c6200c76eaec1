package table_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

func innerOrder(k string, v, price int64) string { return fmt.Sprintf("%s:%d@%d", k, v, price) }

func leftOrder(k string, v, price int64, found bool) string {
	if !found {
		return fmt.Sprintf("%s:%d@none", k, v)
	}
	return innerOrder(k, v, price)
}

// Orders joined with a price table, inner and left, over interleaved
// random updates of both: the full output sequence must be what a direct
// replay gives, each order seeing the prices piped before it.
func TestJoinStreamMatchesReplay(t *testing.T) {
	b := stream.NewBuilder("enrich")
	prices := table.From(b, "prices", serde.String, serde.Int64, table.Named("prices"))
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	table.JoinStream(orders, prices, innerOrder, serde.String, table.Named("inner")).To("inner-out", nil, nil)
	table.LeftJoinStream(orders, prices, leftOrder, serde.String, table.Named("left")).To("left-out", nil, nil)
	d := newDriver(t, b, streamtest.Partitions("orders", 3), streamtest.Partitions("prices", 3),
		streamtest.Partitions("inner-out", 2), streamtest.Partitions("left-out", 2))

	evs := randomEvents(7, 3000,
		eventMix{topic: "orders", weight: 3, keys: 12, tombstones: 8, keyless: 5},
		eventMix{topic: "prices", weight: 2, keys: 10, tombstones: 15, keyless: 3})
	pipeEvents(t, d, evs)

	var wantInner, wantLeft []rec[string]
	var droppedInner, droppedLeft int64
	priceOf := map[string]int64{}
	for _, e := range evs {
		switch {
		case e.topic == "prices" && e.keyless: // a table ignores records without a key
		case e.topic == "prices" && e.tombstone:
			delete(priceOf, e.key)
		case e.topic == "prices":
			priceOf[e.key] = e.value
		case e.tombstone:
			droppedInner++
			droppedLeft++
		case e.keyless:
			droppedInner++
			// The left join keeps it, as a missing key; the key serde
			// writes the zero key as an empty one.
			wantLeft = append(wantLeft, rec[string]{Partition: partitionOf("", 2), Value: leftOrder("", e.value, 0, false), TS: e.ts})
		default:
			p, ok := priceOf[e.key]
			out := rec[string]{Partition: partitionOf(e.key, 2), Key: e.key, TS: e.ts}
			if ok {
				out.Value = innerOrder(e.key, e.value, p)
				wantInner = append(wantInner, out)
			}
			out.Value = leftOrder(e.key, e.value, p, ok)
			wantLeft = append(wantLeft, out)
		}
	}
	checkOutput(t, d, "inner-out", serde.String, wantInner)
	checkOutput(t, d, "left-out", serde.String, wantLeft)
	if got := table.DroppedRecords(d.App(), "inner"); got != droppedInner {
		t.Errorf("inner join dropped %d records, want %d", got, droppedInner)
	}
	if got := table.DroppedRecords(d.App(), "left"); got != droppedLeft {
		t.Errorf("left join dropped %d records, want %d", got, droppedLeft)
	}
}

// A stream re-keyed by Map goes through a repartition topic sized like
// the table's topic (3 partitions), not like its own (2), and every record
// meets the table partition of its new key.
func TestJoinStreamRepartitionsChangedKeys(t *testing.T) {
	rekey := func(_ string, v int64) (string, int64) { return fmt.Sprint("k", (v%8+8)%8), v }
	b := stream.NewBuilder("rekeyed")
	prices := table.From(b, "prices", serde.String, serde.Int64, table.Named("prices"))
	clicks := stream.Map(stream.From(b, "clicks", serde.String, serde.Int64), rekey, stream.Serdes(serde.String, serde.Int64))
	table.LeftJoinStream(clicks, prices, leftOrder, serde.String, table.Named("by-value")).To("out", nil, nil)
	topic := "rekeyed-by-value-repartition"
	it := b.Internal().Topo.InternalTopics[topic]
	if it == nil || it.Partitions != topology.PartitionsOfReader {
		t.Fatalf("internal topic %s: %+v, want one sized by its reader", topic, it)
	}
	d := newDriver(t, b, streamtest.Partitions("clicks", 2), streamtest.Partitions("prices", 3))

	evs := randomEvents(8, 2000,
		eventMix{topic: "clicks", weight: 1, keys: 30, tombstones: 5, keyless: 10},
		eventMix{topic: "prices", weight: 1, keys: 8, tombstones: 15})
	pipeEvents(t, d, evs)

	var want []rec[string]
	priceOf := map[string]int64{}
	for _, e := range evs {
		switch {
		case e.topic == "prices" && e.tombstone:
			delete(priceOf, e.key)
		case e.topic == "prices":
			priceOf[e.key] = e.value
		case e.tombstone: // Map drops null values
		default: // keyless clicks get a key from their value
			k, v := rekey(e.key, e.value)
			p, ok := priceOf[k]
			want = append(want, rec[string]{Partition: partitionOf(k, 1), Key: k, Value: leftOrder(k, v, p, ok), TS: e.ts})
		}
	}
	checkOutput(t, d, "out", serde.String, want)
	repart := streamtest.Output(d, topic, serde.String, serde.Int64).ReadAll()
	if len(repart) != len(want) {
		t.Fatalf("%s has %d records, want %d", topic, len(repart), len(want))
	}
	for _, r := range repart {
		if p := partitionOf(r.Key, 3); r.Partition != p {
			t.Fatalf("%s: key %s on partition %d, want %d of 3", topic, r.Key, r.Partition, p)
		}
	}
}

// Joining topics of different partition counts without re-keying cannot
// meet equal keys in one task: the app refuses to start, naming both.
func TestJoinStreamRequiresCopartitioning(t *testing.T) {
	b := stream.NewBuilder("skewed")
	prices := table.From(b, "prices", serde.String, serde.Int64, table.Named("prices"))
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	table.JoinStream(orders, prices, innerOrder, serde.String).To("out", nil, nil)
	_, err := streamtest.New(b, streamtest.Partitions("orders", 2), streamtest.Partitions("prices", 3))
	if !errors.Is(err, engine.ErrCopartition) {
		t.Fatalf("start: %v, want ErrCopartition", err)
	}
	for _, s := range []string{"orders has 2", "prices has 3"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

// A table without a store of its own cannot be joined against.
func TestJoinStreamNeedsMaterializedTable(t *testing.T) {
	b := stream.NewBuilder("unmaterialized")
	prices := table.From(b, "prices", serde.String, serde.Int64, table.Named("prices"))
	positive := prices.Filter(func(_ string, p int64) bool { return p > 0 })
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	table.JoinStream(orders, positive, innerOrder, serde.String).To("out", nil, nil)
	if _, err := streamtest.New(b); !errors.Is(err, table.ErrNotMaterialized) {
		t.Fatalf("start: %v, want ErrNotMaterialized", err)
	}
}
