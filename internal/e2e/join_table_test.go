package e2e

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Table–table joins on the broker: whatever order the two topics are read
// in and however the caches collapse updates, each join's result must end
// as the join of the two tables' final contents, in its output topic (last
// value per key) and through Lookup.

func showJoined(a int64, aok bool, b int64, bok bool) string {
	show := func(v int64, ok bool) string {
		if !ok {
			return "-"
		}
		return fmt.Sprint(v)
	}
	return show(a, aok) + "|" + show(b, bok)
}

func TestTableJoinsOnTheBroker(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"left": 3, "right": 3, "inner": 2, "left-join": 2, "outer": 2, "derived": 1})
	g := newGenerator(61)
	// Many deletes over few keys, so that every kind of row appears.
	lefts, rights := g.records("left", 2500, 30, true), g.records("right", 2500, 30, true)
	for i := range lefts {
		if i%5 == 0 {
			lefts[i].Tombstone, rights[i].Tombstone = true, true
		}
	}
	c.produce(lefts)
	c.produce(rights)

	keepLeft := func(_ string, v int64) bool { return v%3 != 0 }
	b := c.builder("e2e-join-table")
	lt := table.From(b, c.topic("left"), serde.String, serde.Int64, table.Named("left"))
	rt := table.From(b, c.topic("right"), serde.String, serde.Int64, table.Named("right"))
	joins := map[string]table.Table[string, string]{
		"inner": table.Join(lt, rt, func(a, b int64) string { return showJoined(a, true, b, true) }, serde.String, table.Named("inner")),
		"left-join": table.LeftJoin(lt, rt, func(a, b int64, ok bool) string { return showJoined(a, true, b, ok) },
			serde.String, table.Named("left-join")),
		"outer": table.OuterJoin(lt, rt, showJoined, serde.String, table.Named("outer")),
		// Derived sides, which the join materializes itself.
		"derived": table.Join(lt.Filter(keepLeft), table.MapValues(rt, func(_ string, v int64) int64 { return -v }, serde.Int64),
			func(a, b int64) string { return showJoined(a, true, b, true) }, serde.String, table.Named("derived")),
	}
	for name, j := range joins {
		j.ToStream().To(c.topic(name), nil, nil)
	}
	// A small cache, so that evictions flush one side while the other is
	// still dirty.
	r := c.start(b, stream.Config{CacheMaxBytes: 4 << 10, Threads: 2})
	r.awaitCaughtUp()

	a, bv := map[string]int64{}, map[string]int64{}
	tableAt(a, lefts)
	tableAt(bv, rights)
	want := map[string]map[string]string{"inner": {}, "left-join": {}, "outer": {}, "derived": {}}
	var absent []string
	for _, k := range keysOf(append(append([]input{}, lefts...), rights...)) {
		va, aok := a[k]
		vb, bok := bv[k]
		if aok && bok {
			want["inner"][k] = showJoined(va, true, vb, true)
		}
		if aok {
			want["left-join"][k] = showJoined(va, true, vb, bok)
		}
		if aok || bok {
			want["outer"][k] = showJoined(va, aok, vb, bok)
		} else {
			absent = append(absent, k)
		}
		if aok && keepLeft(k, va) && bok {
			want["derived"][k] = showJoined(va, true, -vb, true)
		}
	}
	if len(absent) == 0 || len(want["inner"]) == len(want["outer"]) {
		t.Fatalf("the input leaves no key deleted on both sides, or none on one side: deletes go unchecked")
	}
	for name, j := range joins {
		checkLookups(t, r, j, want[name], absent...)
	}
	r.stopClean()
	for name := range joins {
		checkTable(t, name+" topic", lastValues(readTopic(c, name, serde.String, serde.String)), want[name])
	}
}
