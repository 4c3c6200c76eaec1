package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// A global table on the broker: read to the end of its topic before the
// app processes anything, kept up to date while it runs, and resumed from
// its checkpoint after a restart. Clicks (3 partitions, two threads) join
// it on a key computed from their value; the regions topic has 2
// partitions, and no co-partitioning is needed.
func TestGlobalTableJoinOnTheBroker(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"regions": 2, "clicks": 3, "located": 2})
	g := newGenerator(81)
	regionOf := func(_ string, v int64) string { return fmt.Sprint("k", max(v, -v)%10) }
	show := func(k string, v, r int64, ok bool) string {
		if !ok {
			return fmt.Sprintf("%s:%d in none", k, v)
		}
		return fmt.Sprintf("%s:%d in %d", k, v, r)
	}
	build := func() (*stream.Builder, table.GlobalTable[string, int64]) {
		b := c.builder("e2e-global")
		regions := table.Global(b, c.topic("regions"), serde.String, serde.Int64, table.Named("regions"))
		clicks := stream.From(b, c.topic("clicks"), serde.String, serde.Int64)
		table.LeftJoinGlobal(clicks, regions, regionOf, show, serde.String, table.Named("locate")).To(c.topic("located"), nil, nil)
		return b, regions
	}
	stateDir := t.TempDir()
	cfg := stream.Config{StateDir: stateDir, Threads: 2}
	region := map[string]int64{}
	var allRegions, allClicks []input
	var want []rec[string, string]

	// checkRegions compares every region key with the model, waiting up
	// to the deadline unless wait is false (then it must hold at once).
	checkRegions := func(r *running, gt table.GlobalTable[string, int64], wait bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := map[string]int64{}
			for _, k := range keysOf(allRegions) {
				v, ok, err := table.LookupGlobal(r.app, gt, k)
				if err != nil {
					t.Fatalf("lookup %s: %v", k, err)
				}
				if ok {
					got[k] = v
				}
			}
			if fmt.Sprint(got) == fmt.Sprint(region) || !wait || time.Now().After(deadline) {
				checkTable(t, "global table", got, region)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	clicksSeeing := func(r *running) {
		t.Helper()
		clicks := g.records("clicks", 700, 30, true)
		c.produce(clicks)
		r.awaitCaughtUp()
		for _, x := range clicks {
			if x.Tombstone {
				continue // null values cannot join
			}
			v, ok := region[regionOf(x.Key, x.Value)]
			want = append(want, rec[string, string]{Partition: partitionOf(serde.String, x.Key, 2), Key: x.Key, Value: show(x.Key, x.Value, v, ok), TS: x.TS})
		}
		allClicks = append(allClicks, clicks...)
	}
	regionUpdates := func() {
		updates := g.records("regions", 200, 10, true)
		c.produce(updates)
		tableAt(region, updates)
		allRegions = append(allRegions, updates...)
	}

	regionUpdates()
	b, gt := build()
	r := c.start(b, cfg)
	checkRegions(r, gt, false) // bootstrapped before Ready
	clicksSeeing(r)
	regionUpdates()
	checkRegions(r, gt, true) // kept up to date
	clicksSeeing(r)
	r.stopClean()

	// The checkpoint holds the end of each partition of the topic.
	cp, err := storage.ReadCheckpoint(filepath.Join(stateDir, c.app("e2e-global"), "global", ".checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(2) {
		end, err := c.client.ListOffset(c.ctx, c.topic("regions"), p, broker.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if got := cp[fmt.Sprintf("%s-%d", c.topic("regions"), p)]; got != end {
			t.Errorf("global checkpoint of regions-%d is %d, want the end, %d", p, got, end)
		}
	}

	// Restarted with its local state, the app reads only what was
	// written while it was down.
	regionUpdates()
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	b, gt = build()
	r = c.start(b, cfg)
	checkRegions(r, gt, false)
	if !strings.Contains(logs.String(), fmt.Sprintf(`msg="bootstrapped global store" store=regions topic=%s records=200`, c.topic("regions"))) {
		t.Errorf("the restart did not bootstrap exactly the 200 new records:\n%s", logs.String())
	}
	clicksSeeing(r)
	r.stopClean()
	checkStream(t, "located", readTopic(c, "located", serde.String, serde.String), want, origins(allClicks))
}

// lockedBuffer collects an app's log lines from its goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
