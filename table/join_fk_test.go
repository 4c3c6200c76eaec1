package table_test

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// Orders (keyed by order id) point to products by a foreign key taken
// from their value; products hold prices. Orders have 3 partitions and
// products 2, so subscriptions and responses must cross partitions.

func productOf(v int64) string { return fmt.Sprint("k", max(v, -v)%8) }

func priced(order, price int64) string { return fmt.Sprintf("%d@%d", order, price) }

func pricedOrNone(order, price int64, found bool) string {
	if !found {
		return fmt.Sprintf("%d@none", order)
	}
	return priced(order, price)
}

func cheap(_ string, price int64) bool { return price > -50 }

// fkTopology joins orders with products (inner), and with the products
// a Filter keeps (left join, the right side materialized by the join).
func fkTopology() (*stream.Builder, table.Table[string, string], table.Table[string, string]) {
	b := stream.NewBuilder("fk")
	orders := table.From(b, "orders", serde.String, serde.Int64, table.Named("orders"))
	products := table.From(b, "products", serde.String, serde.Int64, table.Named("products"))
	inner := table.JoinForeignKey(orders, products, productOf, priced, serde.String, table.Named("fk-inner"))
	left := table.LeftJoinForeignKey(orders, products.Filter(cheap), productOf, pricedOrNone, serde.String, table.Named("fk-left"))
	inner.ToStream().To("inner-out", nil, nil)
	left.ToStream().To("left-out", nil, nil)
	return b, inner, left
}

// fkModel is both joins computed from the two tables' current contents.
type fkModel struct {
	orders, products map[string]int64
}

func (m fkModel) apply(e event) {
	t := m.orders
	if e.topic == "products" {
		t = m.products
	}
	if e.tombstone {
		delete(t, e.key)
	} else {
		t[e.key] = e.value
	}
}

func (m fkModel) joins() (inner, left map[string]string) {
	inner, left = map[string]string{}, map[string]string{}
	for k, v := range m.orders {
		p, ok := m.products[productOf(v)]
		if ok {
			inner[k] = priced(v, p)
		}
		left[k] = pricedOrNone(v, p, ok && cheap("", p))
	}
	return inner, left
}

var fkMixes = []eventMix{
	{topic: "orders", weight: 3, keys: 20, tombstones: 15},
	{topic: "products", weight: 1, keys: 10, tombstones: 25},
}

// After every record the driver has processed the whole cascade
// (subscription, response, result), so both results must equal the join
// of the tables as piped so far, at every step.
func TestForeignKeyJoinsMatchReplayAtEveryStep(t *testing.T) {
	b, inner, left := fkTopology()
	d := newDriver(t, b, streamtest.Partitions("orders", 3), streamtest.Partitions("products", 2))
	m := fkModel{orders: map[string]int64{}, products: map[string]int64{}}
	evs := randomEvents(31, 2000, fkMixes...)
	for i, e := range evs {
		pipeEvents(t, d, []event{e})
		m.apply(e)
		if i%10 == 0 || i == len(evs)-1 {
			wantInner, wantLeft := m.joins()
			checkContents(t, d, inner, wantInner)
			checkContents(t, d, left, wantLeft)
		}
	}
	wantInner, wantLeft := m.joins()
	for topic, want := range map[string]map[string]string{"inner-out": wantInner, "left-out": wantLeft} {
		if got := streamtest.LatestByKey(streamtest.Output(d, topic, serde.String, serde.String)); !maps.Equal(got, want) {
			t.Errorf("%s: last values\n got %v\nwant %v", topic, got, want)
		}
	}
	// Subscriptions go to their foreign key's partition of 2, and a row
	// that moved or went away left no subscription behind.
	for _, r := range streamtest.Output(d, "fk-fk-inner-subscription-registration-topic", serde.String, serde.Bytes).ReadAll() {
		if p := partitionOf(r.Key, 2); r.Partition != p {
			t.Fatalf("subscription for %s on partition %d, want %d", r.Key, r.Partition, p)
		}
	}
	subs := streamtest.LatestByKey(streamtest.Output(d, "fk-fk-inner-subscription-store-changelog", serde.String, serde.Bytes))
	if len(subs) != len(m.orders) {
		t.Errorf("%d subscriptions registered, want one per order (%d)", len(subs), len(m.orders))
	}
}

// With commits at random points and a cache small enough to evict,
// responses race with newer left values (stale ones must be dropped):
// the results must still end as the join of the final tables.
func TestForeignKeyJoinsConvergeWithCaching(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			cache := 0
			if seed%2 == 0 {
				cache = 4 << 10
			}
			b, inner, left := fkTopology()
			d := newDriver(t, b, streamtest.ManualCommit(), streamtest.Partitions("orders", 3), streamtest.Partitions("products", 2),
				streamtest.AppConfig(stream.Config{CacheMaxBytes: cache}))
			m := fkModel{orders: map[string]int64{}, products: map[string]int64{}}
			evs := randomEvents(200+seed, 2000, fkMixes...)
			r := rand.New(rand.NewPCG(seed, 1))
			for len(evs) > 0 {
				n := min(len(evs), 1+r.IntN(80))
				pipeEvents(t, d, evs[:n])
				for _, e := range evs[:n] {
					m.apply(e)
				}
				if err := d.Commit(); err != nil {
					t.Fatal(err)
				}
				evs = evs[n:]
			}
			wantInner, wantLeft := m.joins()
			checkContents(t, d, inner, wantInner)
			checkContents(t, d, left, wantLeft)
			if got := streamtest.LatestByKey(streamtest.Output(d, "inner-out", serde.String, serde.String)); !maps.Equal(got, wantInner) {
				t.Errorf("inner-out: last values\n got %v\nwant %v", got, wantInner)
			}
		})
	}
}

// response builds a response record as the right side writes it (see
// join_fk_wire.go): a response computed for another value of the row is
// stale and must not reach the result.
func response(leftValue []byte, price int64) []byte {
	h := fnv.New128a()
	h.Write(leftValue)
	out := append([]byte{0, 1}, h.Sum(nil)...)
	pb, _ := serde.Int64.Serialize("", price)
	return append(out, pb...)
}

func TestForeignKeyJoinDropsStaleResponses(t *testing.T) {
	b, inner, _ := fkTopology()
	d := newDriver(t, b, streamtest.Partitions("orders", 3), streamtest.Partitions("products", 2))
	orders := streamtest.Input(d, "orders", serde.String, serde.Int64)
	products := streamtest.Input(d, "products", serde.String, serde.Int64)
	responses := streamtest.Input(d, "fk-fk-inner-subscription-response-topic", serde.String, serde.Bytes)
	if err := products.PipeAt(productOf(12), 10, baseTS); err != nil {
		t.Fatal(err)
	}
	if err := orders.PipeAt("o1", 12, baseTS+1); err != nil {
		t.Fatal(err)
	}
	checkContents(t, d, inner, map[string]string{"o1": priced(12, 10)})

	// Late, for the value 11 the row had before: dropped.
	old, _ := serde.Int64.Serialize("", 11)
	if err := responses.PipeAt("o1", response(old, 999), baseTS+2); err != nil {
		t.Fatal(err)
	}
	checkContents(t, d, inner, map[string]string{"o1": priced(12, 10)})
	// For the current value: taken (the right side would have sent it
	// after the product changed).
	cur, _ := serde.Int64.Serialize("", 12)
	if err := responses.PipeAt("o1", response(cur, 999), baseTS+3); err != nil {
		t.Fatal(err)
	}
	checkContents(t, d, inner, map[string]string{"o1": priced(12, 999)})
}
