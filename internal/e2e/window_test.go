package e2e

import (
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/window"
)

// Windowed counts end to end: tumbling and hopping windows over
// out-of-order input (disorder below the grace, so nothing is late), the
// last value per window in the output topics compared with counts computed
// here.
func TestWindowedCounts(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "tumbling": 2, "hopping": 2})
	in := newGenerator(21).records("in", 3000, 12, true)
	c.produce(in)

	const size, advance = 10_000, 5_000 // ms
	b := c.builder("e2e-windows")
	grouped := stream.From(b, c.topic("in"), serde.String, serde.Int64).GroupByKey()
	ws := window.KeySerde(serde.String)
	window.Count(grouped, window.Tumbling(size*time.Millisecond).Grace(time.Minute), window.Named("tumbling-counts")).
		ToStream().To(c.topic("tumbling"), ws, serde.Int64)
	window.Count(grouped, window.Hopping(2*size*time.Millisecond, advance*time.Millisecond).Grace(time.Minute), window.Named("hopping-counts")).
		ToStream().To(c.topic("hopping"), ws, serde.Int64)
	c.runToEnd(b, stream.Config{})

	tumbling := map[window.Key[string]]int64{}
	hopping := map[window.Key[string]]int64{}
	for _, x := range in {
		if x.Tombstone {
			continue // null values do not count
		}
		start := x.TS - x.TS%size
		tumbling[window.Key[string]{Key: x.Key, Start: start, End: start + size}]++
		for s := x.TS - x.TS%advance - 2*size + advance; s <= x.TS; s += advance {
			if s >= 0 && x.TS < s+2*size {
				hopping[window.Key[string]{Key: x.Key, Start: s, End: s + 2*size}]++
			}
		}
	}
	for name, want := range map[string]map[window.Key[string]]int64{"tumbling": tumbling, "hopping": hopping} {
		got := lastValues(readTopic(c, name, ws, serde.Int64))
		if len(got) != len(want) {
			t.Errorf("%s: %d windows in the output, want %d", name, len(got), len(want))
		}
		for k, n := range want {
			if got[k] != n {
				t.Fatalf("%s: window %s [%d, %d) counted %d, want %d", name, k.Key, k.Start, k.End, got[k], n)
			}
		}
	}
}
