package streamtest_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// A word count, tested: each line piped in updates the counts of its words
// at once, through the repartition topic GroupBy creates. The updates of
// one line come out in key order, the order of a store's cache flush.
func Example() {
	b := stream.NewBuilder("word-count")
	lines := stream.From(b, "lines", serde.String, serde.String)
	words := stream.FlatMapValues(lines, func(_ string, line string) []string { return strings.Fields(line) },
		stream.Serdes(serde.String, serde.String))
	byWord := stream.GroupBy(words, func(_, w string) string { return w }, serde.String, stream.Named("by-word"))
	table.Count(byWord, table.Named("counts")).ToStream().To("word-counts", serde.String, serde.Int64)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "lines", serde.String, serde.String)
	out := streamtest.Output(d, "word-counts", serde.String, serde.Int64)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, line := range []string{"the cat", "the dog", "a cat"} {
		if err := in.Pipe("", line, t0.Add(time.Duration(i)*time.Second)); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, r := range out.ReadAll() {
		fmt.Println(r.Key, r.Value)
	}
	// Output:
	// cat 1
	// the 1
	// dog 1
	// the 2
	// a 1
	// cat 2
}

// A poison pill: bytes the value serde cannot read go to a dead-letter
// topic, original bytes and coordinates in headers, and the app goes on.
func ExampleInputTopic_PipeRaw() {
	b := stream.NewBuilder("doubler")
	nums := stream.From(b, "numbers", serde.String, serde.Int64)
	stream.MapValues(nums, func(_ string, v int64) int64 { return 2 * v }, stream.Serdes[string](nil, serde.Int64)).
		To("doubled", nil, nil)

	d, err := streamtest.New(b, streamtest.AppConfig(stream.Config{OnDeserializationError: stream.DeadLetterTo("numbers-dlq")}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "numbers", serde.String, serde.Int64)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	_ = in.Pipe("a", 1, t0)
	_ = in.PipeRaw([]byte("b"), []byte("not a number"), t0)
	_ = in.Pipe("c", 3, t0)

	for _, r := range streamtest.Output(d, "doubled", serde.String, serde.Int64).ReadAll() {
		fmt.Println("doubled:", r.Key, r.Value)
	}
	for _, r := range streamtest.Output(d, "numbers-dlq", serde.String, serde.String).ReadAll() {
		kind, _ := r.Header("eddy.error.kind")
		offset, _ := r.Header("eddy.offset")
		fmt.Printf("dead letter: %s=%q (%s error at offset %s)\n", r.Key, r.Value, kind, offset)
	}
	fmt.Println("bad records:", d.Stats().BadRecords)
	// Output:
	// doubled: a 2
	// doubled: c 6
	// dead letter: b="not a number" (deserialization error at offset 1)
	// bad records: 1
}

// Tables can be read directly; with ManualCommit, updates between commits
// collapse into one output record per key, as in a running app.
func ExampleTableValue() {
	b := stream.NewBuilder("totals")
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	totals := table.Reduce(orders.GroupByKey(), func(sum, v int64) int64 { return sum + v }, table.Named("totals"))
	totals.ToStream().To("totals-out", nil, nil)

	d, err := streamtest.New(b, streamtest.ManualCommit())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "orders", serde.String, serde.Int64)
	out := streamtest.Output(d, "totals-out", serde.String, serde.Int64)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, o := range []struct {
		customer string
		amount   int64
	}{{"ann", 10}, {"bob", 5}, {"ann", 7}, {"ann", 1}} {
		_ = in.Pipe(o.customer, o.amount, t0.Add(time.Duration(i)*time.Minute))
	}
	ann, ok, err := streamtest.TableValue(d, totals, "ann")
	fmt.Println("ann:", ann, ok, err)
	fmt.Println("before commit:", out.Unread(), "records")
	if err := d.Commit(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("after commit:", streamtest.LatestByKey(out))
	// Output:
	// ann: 18 true <nil>
	// before commit: 0 records
	// after commit: map[ann:18 bob:5]
}

// sessionCounter counts records per task and reports the count every
// minute of wall-clock time, whether records arrive or not.
type sessionCounter struct {
	pc *stream.ProcessorContext[string, int64]
	n  int64
}

func (p *sessionCounter) Init(pc *stream.ProcessorContext[string, int64]) error {
	p.pc = pc
	return pc.Schedule(time.Minute, stream.WallClock, func(now int64) error {
		return pc.Forward(stream.Record[string, int64]{Key: time.UnixMilli(now).UTC().Format("15:04"), Value: p.n, Timestamp: now})
	})
}

func (p *sessionCounter) Process(stream.Record[string, string]) error { p.n++; return nil }

func (p *sessionCounter) Close() error { return nil }

// Wall-clock punctuations fire as the test advances the driver's clock.
func ExampleDriver_AdvanceWallClock() {
	b := stream.NewBuilder("heartbeat")
	stream.Process(stream.From(b, "events", serde.String, serde.String),
		func() stream.Processor[string, string, string, int64] { return &sessionCounter{} },
		stream.Serdes(serde.String, serde.Int64)).To("per-minute", nil, nil)

	t0 := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	d, err := streamtest.New(b, streamtest.WallClock(t0))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "events", serde.String, serde.String)
	_ = in.Pipe("u1", "login", t0)
	_ = in.Pipe("u2", "login", t0)
	_ = d.AdvanceWallClock(90 * time.Second)
	_ = in.Pipe("u1", "logout", t0.Add(90*time.Second))
	_ = d.AdvanceWallClock(2 * time.Minute)

	for _, r := range streamtest.Output(d, "per-minute", serde.String, serde.Int64).ReadAll() {
		fmt.Println(r.Key, r.Value)
	}
	fmt.Println("clock:", d.Now().Format("15:04:05"))
	// Output:
	// 09:01 2
	// 09:02 3
	// 09:03 3
	// clock: 09:03:30
}
