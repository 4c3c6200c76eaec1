package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Stream–table joins on the broker. Which table state a stream record
// meets depends on how far the table's topic was read when the record was
// processed, so the test alternates phases: table updates (deletes
// included), then stream records once the app has caught up, so that each
// stream record must see exactly the table as of the end of the phases
// before it.

// tableAt folds table updates into a map.
func tableAt(m map[string]int64, recs []input) {
	for _, x := range recs {
		if x.Tombstone {
			delete(m, x.Key)
		} else {
			m[x.Key] = x.Value
		}
	}
}

func TestJoinStreamWithTableInPhases(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"prices": 3, "orders": 3, "clicks": 2, "priced": 2, "clicks-priced": 3})
	g := newGenerator(51)
	inner := func(k string, v, p int64) string { return fmt.Sprintf("%s:%d@%d", k, v, p) }
	left := func(k string, v, p int64, ok bool) string {
		if !ok {
			return fmt.Sprintf("%s:%d@none", k, v)
		}
		return inner(k, v, p)
	}
	rekey := func(_ string, v int64) (string, int64) { return fmt.Sprint("k", (v%9+9)%9), v }

	b := c.builder("e2e-join-stream")
	prices := table.From(b, c.topic("prices"), serde.String, serde.Int64, table.Named("prices"))
	orders := stream.From(b, c.topic("orders"), serde.String, serde.Int64)
	table.JoinStream(orders, prices, inner, serde.String, table.Named("priced")).To(c.topic("priced"), nil, nil)
	// Clicks have 2 partitions and prices 3: re-keyed, they are
	// repartitioned into a topic sized like prices.
	clicks := stream.Map(stream.From(b, c.topic("clicks"), serde.String, serde.Int64), rekey, stream.Serdes(serde.String, serde.Int64))
	table.LeftJoinStream(clicks, prices, left, serde.String, table.Named("clicks-priced")).To(c.topic("clicks-priced"), nil, nil)
	r := c.start(b, stream.Config{})

	priceOf := map[string]int64{}
	var allOrders, allClicks []input
	var wantPriced, wantClicks []rec[string, string]
	for phase := range 3 {
		updates := g.records("prices", 400, 12, true)
		c.produce(updates)
		r.awaitCaughtUp()
		tableAt(priceOf, updates)

		ords := g.records("orders", 800, 15, true)
		clk := g.records("clicks", 800, 40, true)
		c.produce(ords)
		c.produce(clk)
		r.awaitCaughtUp()
		for _, x := range ords {
			if p, ok := priceOf[x.Key]; ok && !x.Tombstone {
				wantPriced = append(wantPriced, rec[string, string]{Partition: partitionOf(serde.String, x.Key, 2), Key: x.Key, Value: inner(x.Key, x.Value, p), TS: x.TS})
			}
		}
		for _, x := range clk {
			if x.Tombstone {
				continue // Map drops null values
			}
			k, v := rekey(x.Key, x.Value)
			p, ok := priceOf[k]
			wantClicks = append(wantClicks, rec[string, string]{Partition: partitionOf(serde.String, k, 3), Key: k, Value: left(k, v, p, ok), TS: x.TS})
		}
		allOrders, allClicks = append(allOrders, ords...), append(allClicks, clk...)
		t.Logf("phase %d: %d prices, %d joined orders so far", phase, len(priceOf), len(wantPriced))
	}
	dropped := int64(0)
	for _, x := range allOrders {
		if x.Tombstone {
			dropped++
		}
	}
	if got := table.DroppedRecords(r.app, "priced"); got != dropped {
		t.Errorf("the inner join dropped %d records, want the %d null values", got, dropped)
	}
	r.stopClean()

	if n := c.partitions("e2e-join-stream-clicks-priced-repartition"); n != 3 {
		t.Errorf("the repartition topic has %d partitions, want 3 (as prices)", n)
	}
	checkStream(t, "priced", readTopic(c, "priced", serde.String, serde.String), wantPriced, origins(allOrders))
	checkStream(t, "clicks-priced", readTopic(c, "clicks-priced", serde.String, serde.String), wantClicks, origins(allClicks),
		func(r rec[string, string]) string {
			return fmt.Sprint("repartition-", partitionOf(serde.String, r.Key, 3))
		})
}

// Joining topics of different partition counts on an unchanged key cannot
// meet equal keys in one task: the app stops at startup, naming both
// topics and their counts.
func TestJoinStreamOfDifferentPartitionCountsFailsAtStartup(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"prices": 3, "orders": 2, "out": 1})
	b := c.builder("e2e-join-skewed")
	prices := table.From(b, c.topic("prices"), serde.String, serde.Int64, table.Named("prices"))
	orders := stream.From(b, c.topic("orders"), serde.String, serde.Int64)
	table.JoinStream(orders, prices, func(_ string, v, p int64) int64 { return v * p }, serde.Int64).To(c.topic("out"), nil, nil)
	app, err := stream.NewApp(b, stream.Config{Client: c.client, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	err = app.Run(ctx)
	if !errors.Is(err, engine.ErrCopartition) {
		t.Fatalf("run: %v, want ErrCopartition", err)
	}
	for _, s := range []string{"orders has 2", "prices has 3"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}
