package nexmark

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// loaded is an embedded broker holding generated events.
type loaded struct {
	client broker.Client
	events []Event
	counts Counts
}

// load writes the events of opts into a fresh embedded broker's Nexmark
// topics, partitions partitions each.
func load(t *testing.T, ctx context.Context, partitions int32, opts ...Option) loaded {
	t.Helper()
	br, err := broker.Open(broker.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	client := br.Embedded()
	w, err := NewWriter(ctx, client, partitions)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	for ev := range g.All() {
		evs = append(evs, ev)
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return loaded{client: client, events: evs, counts: w.Counts()}
}

// runAndCheck runs each query over the loaded events on the embedded broker
// and compares its output topic with the query's reference.
func runAndCheck(t *testing.T, ctx context.Context, in loaded, queries ...Query) {
	for _, q := range queries {
		t.Run(q.Name, func(t *testing.T) {
			res, err := Run(ctx, q, RunConfig{
				App:   stream.Config{Client: in.client, StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond},
				Input: in.counts,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d records in %v", q.Name, res.Records, res.Elapsed)
			if err := q.Check(ctx, in.client, res.Output, in.events); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriterRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := load(t, ctx, 3, Seed(5), Events(20_000), OutOfOrderGroup(7), DelayedEvents(0.05, time.Second))
	if in.counts.Total() != 20_000 || in.counts.Persons != 400 || in.counts.Auctions != 1200 {
		t.Fatalf("counts %+v", in.counts)
	}
	bids, err := ReadTopic(ctx, in.client, BidTopic, serde.Int64, serde.JSON[Bid]())
	if err != nil {
		t.Fatal(err)
	}
	// Each bid is on the partition of its auction, in the order written,
	// with its event time as the record's timestamp.
	var want []Bid
	for _, e := range in.events {
		if e.Bid != nil {
			want = append(want, *e.Bid)
		}
	}
	next := map[int32]int{}
	byPartition := map[int32][]Bid{}
	for _, b := range want {
		kb, _ := serde.Int64.Serialize("", b.Auction)
		p := partition.ForKey(kb, 3)
		byPartition[p] = append(byPartition[p], b)
	}
	for _, r := range bids {
		i := next[r.Partition]
		if i >= len(byPartition[r.Partition]) || r.Value != byPartition[r.Partition][i] || r.Key != r.Value.Auction || r.Timestamp != r.Value.DateTime {
			t.Fatalf("partition %d record %d: %+v", r.Partition, i, r)
		}
		next[r.Partition] = i + 1
	}
	if len(bids) != len(want) {
		t.Fatalf("%d bids read back, want %d", len(bids), len(want))
	}
}

// TestStatelessQueries runs q0, q1 and q2 over 100,000 out-of-order events.
func TestStatelessQueries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := load(t, ctx, 3, Seed(1), Events(100_000), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	// The selection must select something for its check to mean anything.
	if n := len(RefQ2(in.events)); n < 100 {
		t.Fatalf("q2 selects %d bids of 100,000 events", n)
	}
	runAndCheck(t, ctx, in, pick(t, "q0", "q1", "q2")...)
}

func pick(t *testing.T, names ...string) []Query {
	var out []Query
	for _, n := range names {
		i := slices.IndexFunc(Queries(), func(q Query) bool { return q.Name == n })
		if i < 0 {
			t.Fatalf("no query %s", n)
		}
		out = append(out, Queries()[i])
	}
	return out
}
