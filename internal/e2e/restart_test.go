package e2e

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// statsApp groups records by a key derived from theirs (through a
// repartition topic) and aggregates them; each run builds it anew, as a
// restarted process would.
func statsApp(c *cluster) (*stream.Builder, table.Table[string, stats]) {
	b := c.builder("e2e-restart")
	src := stream.From(b, c.topic("in"), serde.String, serde.Int64)
	grouped := stream.GroupBy(src, func(k string, _ int64) string { return "g" + k[len(k)-1:] }, serde.String, stream.Named("by-digit"))
	agg := table.Aggregate(grouped, func() stats { return stats{} },
		func(_ string, v int64, s stats) stats { return s.add(v) }, serde.JSON[stats](), table.Named("digit-stats"))
	agg.ToStream().To(c.topic("stats"), nil, nil)
	return b, agg
}

// A clean stop commits everything: a second run with the same state
// directory replays no changelog and counts only the new input, and a run
// with an empty state directory rebuilds the store from its changelog.
func TestRestartRestoresStateWithoutDoubleCounting(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "stats": 2})
	g := newGenerator(51)
	stateDir := t.TempDir()
	want := map[string]stats{}
	var all []input

	for run, cfg := range []stream.Config{
		{StateDir: stateDir},
		{StateDir: stateDir},    // local state and checkpoint kept
		{StateDir: t.TempDir()}, // local state lost: restore from the changelog
	} {
		in := g.records("in", 1500, 30, true)
		c.produce(in)
		all = append(all, in...)
		for _, x := range in {
			if !x.Tombstone {
				k := "g" + x.Key[len(x.Key)-1:]
				want[k] = want[k].add(x.Value)
			}
		}

		b, agg := statsApp(c)
		r := c.start(b, cfg)
		info, err := r.app.Internal().StoreInfo("digit-stats")
		if err != nil {
			t.Fatalf("run %d: store info: %v", run, err)
		}
		for p := range info.Partitions {
			from, n := info.RestoredFrom[p], info.Restored[p]
			switch run {
			case 0:
				if n != 0 {
					t.Errorf("run %d: partition %d restored %d records from an empty changelog", run, p, n)
				}
			case 1:
				if from < 0 || n != 0 {
					t.Errorf("run %d: partition %d restored %d records from %d; after a clean stop the checkpoint covers the changelog", run, p, n, from)
				}
			case 2:
				if from != broker.Earliest || n == 0 {
					t.Errorf("run %d: partition %d restored %d records from %d; with no local state it must replay the changelog", run, p, n, from)
				}
			}
		}
		r.awaitCaughtUp()
		checkLookups(t, r, agg, want, "k1")
		r.stopClean()
		checkTable(t, fmt.Sprintf("run %d: stats topic", run), lastValues(readTopic(c, "stats", serde.String, serde.JSON[stats]())), want)
	}
	if n := len(readTopic(c, "e2e-restart-by-digit-repartition", serde.String, serde.Int64)); n == 0 || n > len(all) {
		t.Errorf("repartition topic holds %d records for %d inputs: input was reprocessed", n, len(all))
	}
}
