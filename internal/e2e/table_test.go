package e2e

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// A table read from a topic with deletes, and the tables derived from it:
// each output topic's last value per key must be the table computed here
// by replaying the input in offset order.
func TestTableFromFilterMapValuesToStream(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"profiles": 3, "all": 2, "positive": 3, "scaled": 1})
	// Many tombstones over few keys, so that some keys end deleted.
	g := newGenerator(21)
	in := g.records("profiles", 3000, 40, true)
	for i := range in {
		if i%7 == 0 && !in[i].Tombstone {
			in[i].Tombstone, in[i].Value = true, 0
		}
	}
	c.produce(in)

	positive := func(_ string, v int64) bool { return v >= 0 }
	scale := func(k string, v int64) string { return fmt.Sprint(k, "*3=", v*3) }
	b := c.builder("e2e-table")
	profiles := table.From(b, c.topic("profiles"), serde.String, serde.Int64, table.Named("profiles"))
	profiles.ToStream().To(c.topic("all"), nil, nil)
	pos := profiles.Filter(positive)
	pos.ToStream().To(c.topic("positive"), nil, nil)
	table.MapValues(profiles, scale, serde.String).ToStream().To(c.topic("scaled"), nil, nil)
	r := c.start(b, stream.Config{})
	r.awaitCaughtUp()

	want := map[string]int64{}
	for _, x := range in { // one key's records are all in one partition, in order
		if x.Tombstone {
			delete(want, x.Key)
		} else {
			want[x.Key] = x.Value
		}
	}
	var deleted []string
	wantPositive, wantScaled := map[string]int64{}, map[string]string{}
	for _, k := range keysOf(in) {
		v, ok := want[k]
		if !ok {
			deleted = append(deleted, k)
			continue
		}
		if positive(k, v) {
			wantPositive[k] = v
		}
		wantScaled[k] = scale(k, v)
	}
	if len(deleted) == 0 {
		t.Fatal("no key ends deleted; the test would not check deletes")
	}
	checkLookups(t, r, profiles, want, deleted...)
	if _, _, err := table.Lookup(r.app, pos, "k1"); !errors.Is(err, table.ErrNotQueryable) {
		t.Errorf("lookup in a filtered table: %v, want ErrNotQueryable", err)
	}
	r.stopClean()

	checkTable(t, "all topic", lastValues(readTopic(c, "all", serde.String, serde.Int64)), want)
	checkTable(t, "positive topic", lastValues(readTopic(c, "positive", serde.String, serde.Int64)), wantPositive)
	checkTable(t, "scaled topic", lastValues(readTopic(c, "scaled", serde.String, serde.String)), wantScaled)
	// The changelog, compacted or not, folds to the same table.
	// The store's changelog folds to the same table: values carry their
	// timestamp in front.
	folded := map[string]int64{}
	for k, raw := range lastValues(readTopic(c, "e2e-table-profiles-changelog", serde.String, serde.Bytes)) {
		_, vb, err := dsl.DecodeTimestamped(raw)
		if err != nil {
			t.Fatalf("changelog value of %s: %v", k, err)
		}
		if folded[k], err = serde.Int64.Deserialize("", vb); err != nil {
			t.Fatalf("changelog value of %s: %v", k, err)
		}
	}
	checkTable(t, "changelog", folded, want)
}
