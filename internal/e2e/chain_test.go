package e2e

import (
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Three sub-topologies chained through two repartition topics, run by two
// workers: orders are rekeyed by a bucket and repartitioned; the second
// sub-topology doubles them, writes them out and rekeys them by parity;
// the third sums per parity.
func TestThreeSubtopologiesThroughTwoRepartitionTopics(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"orders": 3, "doubled": 2, "parity-sums": 2})
	in := newGenerator(41).records("orders", 4000, 25, true)
	c.produce(in)

	bucket := func(_ string, v int64) string { return fmt.Sprint("bucket", (v%5+5)%5) }
	parity := func(_ string, v int64) string { return []string{"even", "odd"}[v&1] }
	b := c.builder("e2e-chain")
	orders := stream.From(b, c.topic("orders"), serde.String, serde.Int64)
	byBucket := stream.SelectKey(orders, bucket, stream.Serdes[string, int64](serde.String, nil)).
		Repartition(stream.Named("by-bucket"), stream.WithPartitions(4))
	doubled := stream.MapValues(byBucket, func(_ string, v int64) int64 { return 2*v + 1 }, stream.Serdes[string](nil, serde.Int64))
	doubled.To(c.topic("doubled"), nil, nil)
	byParity := stream.SelectKey(doubled, func(_ string, v int64) string { return parity("", (v-1)/2) },
		stream.Serdes[string, int64](serde.String, nil)).GroupByKey(stream.Named("by-parity"))
	sums := table.Reduce(byParity, func(acc, v int64) int64 { return acc + v }, table.Named("parity-sums"))
	sums.ToStream().To(c.topic("parity-sums"), nil, nil)

	subs := b.Internal().Topo.Subtopologies()
	if len(subs) != 3 {
		t.Fatalf("%d sub-topologies, want 3:\n%s", len(subs), b.Describe())
	}
	r := c.start(b, stream.Config{Threads: 2})
	r.awaitCaughtUp()

	var wantDoubled []rec[string, int64]
	wantSums := map[string]int64{}
	for _, x := range in {
		if x.Tombstone {
			continue // SelectKey drops tombstones
		}
		k := bucket(x.Key, x.Value)
		wantDoubled = append(wantDoubled, rec[string, int64]{Key: k, Value: 2*x.Value + 1, TS: x.TS, Partition: partitionOf(serde.String, k, 2)})
		wantSums[parity("", x.Value)] += 2*x.Value + 1
	}
	checkLookups(t, r, sums, wantSums, "bucket0")
	r.stopClean()

	for topic, n := range map[string]int32{"e2e-chain-by-bucket-repartition": 4, "e2e-chain-by-parity-repartition": 4} {
		if got := c.partitions(topic); got != n {
			t.Errorf("%s has %d partitions, want %d", topic, got, n)
		}
	}
	checkStream(t, "doubled", readTopic(c, "doubled", serde.String, serde.Int64), wantDoubled, origins(in),
		func(r rec[string, int64]) string {
			return fmt.Sprint("by-bucket-", partitionOf(serde.String, r.Key, 4))
		})
	checkTable(t, "parity-sums topic", lastValues(readTopic(c, "parity-sums", serde.String, serde.Int64)), wantSums)
}
