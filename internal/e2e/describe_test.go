package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// shopTopology is a known topology with two sources, a merge, a split, a
// repartition, a table with a store, a custom processor with a store of
// its own, and several sinks.
func shopTopology() *stream.Builder {
	b := stream.NewBuilder("shop")
	orders := stream.From(b, "orders", serde.String, serde.Int64, stream.Named("orders"))
	refunds := stream.From(b, "refunds", serde.String, serde.Int64, stream.Named("refunds"))
	positive := orders.Filter(func(_ string, v int64) bool { return v > 0 }, stream.Named("positive-orders"))
	all := positive.Merge(stream.MapValues(refunds, func(_ string, v int64) int64 { return -v },
		stream.Serdes[string](nil, serde.Int64), stream.As[string, int64]("negate-refunds")))
	branches := all.Split(func(_ string, v int64) bool { return v >= 1000 })
	branches[0].To("large-orders", nil, nil, stream.SinkNamed[string, int64]("large-orders-sink"))
	byRegion := stream.GroupBy(branches[1], func(k string, _ int64) string { return k[:1] }, serde.String, stream.Named("by-region"))
	totals := table.Reduce(byRegion, func(acc, v int64) int64 { return acc + v }, table.Named("region-totals"))
	totals.ToStream().To("region-totals", nil, nil, stream.SinkNamed[string, int64]("region-totals-sink"))
	sums := stream.Process(branches[1], func() stream.Processor[string, int64, string, int64] { return &runningSum{} },
		stream.Named("running-sum"), stream.WithStore("running-sums"), stream.Serdes(serde.String, serde.Int64))
	sums.To("running-balances", nil, nil, stream.SinkNamed[string, int64]("running-balances-sink"))
	return b
}

func TestDescribeAndDOTGolden(t *testing.T) {
	t.Parallel()
	b := shopTopology()
	if err := b.Err(); err != nil {
		t.Fatalf("the topology does not build: %v", err)
	}
	for _, g := range []struct{ file, got string }{
		{"shop.describe.golden", b.Describe()},
		{"shop.dot.golden", b.DOT()},
	} {
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, []byte(g.got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if g.got != string(want) {
			t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", g.file, path, g.got)
		}
	}
	// Building the same topology again describes it identically: names
	// and orderings do not depend on map iteration.
	again := shopTopology()
	if again.Describe() != b.Describe() || again.DOT() != b.DOT() {
		t.Error("two builds of one topology describe it differently")
	}
	// What the golden files must show, independently of their layout.
	desc := b.Describe()
	for _, s := range []string{
		"Sub-topology: 0", "Sub-topology: 1",
		"(topics: [orders])", "(topics: [shop-by-region-repartition])",
		"(topic: shop-by-region-repartition)", "(stores: [region-totals])", "(stores: [running-sums])",
	} {
		if !strings.Contains(desc, s) {
			t.Errorf("Describe lacks %q:\n%s", s, desc)
		}
	}
	if strings.Count(desc, "Sub-topology:") != 2 {
		t.Errorf("Describe shows %d sub-topologies, want 2:\n%s", strings.Count(desc, "Sub-topology:"), desc)
	}
}
