package nexmark

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
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
	br := clienttest.OpenBroker(t)
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
func runAndCheck(t *testing.T, ctx context.Context, in loaded, p Params, queries ...Query) {
	for _, q := range queries {
		t.Run(q.Name, func(t *testing.T) {
			res, err := Run(ctx, q, RunConfig{
				App:    stream.Config{Client: in.client, StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond, Threads: 2},
				Input:  in.counts,
				Params: p,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d records in %v, %d late", q.Name, res.Records, res.Elapsed, res.LateRecords)
			out, err := ReadOutput(ctx, in.client, res.Output)
			if err != nil {
				t.Fatal(err)
			}
			if res.LateRecords != 0 {
				t.Fatalf("%d late records", res.LateRecords)
			}
			if err := q.Check(out, in.events, p); err != nil {
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
	bids, err := ReadTopic(ctx, in.client, BidTopic, serde.Int64, BidSerde())
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
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	in := load(t, ctx, 3, Seed(1), Events(100_000), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	// The selection must select something for its check to mean anything.
	if n := len(RefQ2(in.events)); n < 100 {
		t.Fatalf("q2 selects %d bids of 100,000 events", n)
	}
	runAndCheck(t, ctx, in, Params{}, pick(t, "q0", "q1", "q2")...)
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

// TestJoinQueriesOnBroker runs q3 and q4, whose results do not depend on
// the order events are processed in, over 200,000 out-of-order events.
func TestJoinQueriesOnBroker(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in := load(t, ctx, 3, Seed(2), Events(200_000), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	if n := len(RefQ3(in.events)); n < 50 {
		t.Fatalf("q3 pairs %d auctions", n)
	}
	if n := len(RefQ4(in.events)); n != 5 {
		t.Fatalf("q4 covers %d categories, want 5", n)
	}
	runAndCheck(t, ctx, in, Params{}, pick(t, "q3", "q4")...)
}

// TestWindowedQueriesOnBroker runs q5, q7 and q8 on the broker with a
// grace period longer than the whole input, so that the order in which the
// app's tasks happen to process partitions cannot make a record late; every
// window closes when Run moves the clock.
func TestWindowedQueriesOnBroker(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// 1,000 events/s: 100 s of event time, a grace period longer.
	in := load(t, ctx, 3, Seed(3), Events(100_000), EventRate(1000), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	runAndCheck(t, ctx, in, Params{Grace: 2 * time.Minute}, pick(t, "q5", "q7", "q8")...)
}

// drive runs a query through streamtest's driver, piping events in the
// order they were generated into topics of four partitions, committing
// every 1000 events, then moves the wall clock so that idle windows close.
// It returns the output and the late records counted.
func drive(t *testing.T, q Query, events []Event, p Params) ([]Output, int64) {
	t.Helper()
	b := stream.NewBuilder("nexmark-" + q.Name)
	q.Build(From(b), "out", p)
	var opts []streamtest.Option
	for _, topic := range []string{PersonTopic, AuctionTopic, BidTopic, "out"} {
		opts = append(opts, streamtest.Partitions(topic, 4))
	}
	d, err := streamtest.New(b, append(opts, streamtest.ManualCommit())...)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	persons := streamtest.Input(d, PersonTopic, serde.Int64, PersonSerde())
	auctions := streamtest.Input(d, AuctionTopic, serde.Int64, AuctionSerde())
	bids := streamtest.Input(d, BidTopic, serde.Int64, BidSerde())
	for i, e := range events {
		switch {
		case e.Person != nil && slices.Contains(q.Inputs, KindPerson):
			err = persons.PipeAt(e.Person.ID, *e.Person, e.Person.DateTime)
		case e.Auction != nil && slices.Contains(q.Inputs, KindAuction):
			err = auctions.PipeAt(e.Auction.ID, *e.Auction, e.Auction.DateTime)
		case e.Bid != nil && slices.Contains(q.Inputs, KindBid):
			err = bids.PipeAt(e.Bid.Auction, *e.Bid, e.Bid.DateTime)
		}
		if err == nil && i%1000 == 999 {
			err = d.Commit()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AdvanceWallClock(time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	var out []Output
	for _, r := range streamtest.Output(d, "out", serde.Int64, serde.Bytes).ReadAll() {
		o := Output{Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, Key: r.Key, Value: r.Value}
		if r.Tombstone {
			o.Value = nil
		}
		out = append(out, o)
	}
	var late int64
	for name, n := range d.App().Internal().Counters() {
		if strings.HasSuffix(name, ".late-records") {
			late += n
		}
	}
	return out, late
}

// TestWindowedQueriesInOrder runs q5, q7 and q8 over 200,000 out-of-order
// events processed in the order they were generated, with the generator's
// MaxLateness as grace: no record is late, and each window's result is
// exact.
func TestWindowedQueriesInOrder(t *testing.T) {
	t.Parallel()
	// 1,500 events/s: 133 s of event time, 14 tumbling windows.
	g, err := New(Seed(4), Events(200_000), EventRate(1500), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	events := slices.Collect(g.All())
	p := Params{Grace: time.Duration(g.MaxLateness()) * time.Millisecond}
	// The references must find something for the checks to mean anything.
	if n := len(RefQ5(events)); n < 10 {
		t.Fatalf("q5: %d windows", n)
	}
	if n := len(RefQ8(events)); n < 100 {
		t.Fatalf("q8: %d new users", n)
	}
	for _, q := range pick(t, "q5", "q7", "q8") {
		t.Run(q.Name, func(t *testing.T) {
			t.Parallel()
			out, late := drive(t, q, events, p)
			if late != 0 {
				t.Fatalf("%d late records", late)
			}
			if err := q.Check(out, events, p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestGraceMatters: without grace, out-of-order bids are late, q5's
// windows miss them, and its check notices.
func TestGraceMatters(t *testing.T) {
	t.Parallel()
	g, err := New(Seed(5), Events(50_000), EventRate(1000), OutOfOrderGroup(10), DelayedEvents(0.1, 3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	events := slices.Collect(g.All())
	q := pick(t, "q5")[0]
	out, late := drive(t, q, events, Params{})
	if late == 0 {
		t.Fatal("no late records without a grace period")
	}
	if err := q.Check(out, events, Params{}); err == nil {
		t.Fatalf("q5 matches its reference although %d records were late", late)
	} else {
		t.Logf("%d late records; the check says: %v", late, err)
	}
}
