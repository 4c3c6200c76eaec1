package e2e

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Foreign-key joins on the broker, across tables of different partition
// counts: subscriptions and responses travel through internal topics,
// asynchronously, so responses computed for a value a row no longer has
// do arrive; whatever the interleaving, each result must end as the join
// of the final tables.
func TestForeignKeyJoinsOnTheBroker(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"orders": 3, "products": 2, "lines": 2})
	g := newGenerator(71)
	productOf := func(v int64) string { return fmt.Sprint("k", max(v, -v)%12) }
	show := func(order, price int64, ok bool) string {
		if !ok {
			return fmt.Sprintf("%d@none", order)
		}
		return fmt.Sprintf("%d@%d", order, price)
	}
	// Products first, then orders and product changes mixed: updates in
	// flight while rows move between products.
	products := g.records("products", 300, 14, true)
	c.produce(products)
	orders := g.records("orders", 3000, 60, true)
	more := g.records("products", 600, 14, true)
	c.produce(orders)
	c.produce(more)

	b := c.builder("e2e-join-fk")
	ot := table.From(b, c.topic("orders"), serde.String, serde.Int64, table.Named("orders"))
	pt := table.From(b, c.topic("products"), serde.String, serde.Int64, table.Named("products"))
	inner := table.JoinForeignKey(ot, pt, productOf, func(o, p int64) string { return show(o, p, true) }, serde.String, table.Named("lines"))
	left := table.LeftJoinForeignKey(ot, pt, productOf, show, serde.String, table.Named("all-lines"), table.InMemory())
	inner.ToStream().To(c.topic("lines"), nil, nil)
	r := c.start(b, stream.Config{Threads: 2, CacheMaxBytes: 8 << 10})
	r.awaitCaughtUp()

	o, p := map[string]int64{}, map[string]int64{}
	tableAt(o, orders)
	tableAt(p, append(append([]input{}, products...), more...))
	wantInner, wantLeft := map[string]string{}, map[string]string{}
	var absent []string
	for _, k := range keysOf(orders) {
		v, ok := o[k]
		if !ok {
			absent = append(absent, k)
			continue
		}
		price, found := p[productOf(v)]
		if found {
			wantInner[k] = show(v, price, true)
		}
		wantLeft[k] = show(v, price, found)
	}
	if len(wantInner) == len(wantLeft) || len(absent) == 0 {
		t.Fatal("every order finds its product, or none is deleted: the input checks too little")
	}
	checkLookups(t, r, inner, wantInner, absent...)
	checkLookups(t, r, left, wantLeft, absent...)
	r.stopClean()
	for topic, n := range map[string]int32{"e2e-join-fk-lines-subscription-registration-topic": 2, "e2e-join-fk-lines-subscription-response-topic": 3} {
		if got := c.partitions(topic); got != n {
			t.Errorf("%s has %d partitions, want %d", topic, got, n)
		}
	}
	checkTable(t, "lines topic", lastValues(readTopic(c, "lines", serde.String, serde.String)), wantInner)
}
