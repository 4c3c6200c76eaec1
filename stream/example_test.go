package stream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Count mobile page views: read clicks, keep the mobile ones, group them by
// page and count them in a table, then query the running app.
func Example() {
	type Click struct {
		Page   string `json:"page"`
		Device string `json:"device"`
	}
	client, dir, closeBroker := exBroker("clicks")
	defer closeBroker()
	var clicks []exRecord
	for i, c := range []Click{{"/home", "mobile"}, {"/cart", "desktop"}, {"/cart", "mobile"},
		{"/shoes", "mobile"}, {"/home", "tablet"}, {"/cart", "mobile"}} {
		v, _ := serde.JSON[Click]().Serialize("clicks", c)
		clicks = append(clicks, exRecord{key: fmt.Sprint("user-", i%3), value: string(v), ts: int64(i)})
	}
	exProduce(client, "clicks", clicks...)

	b := stream.NewBuilder("click-counter")
	in := stream.From(b, "clicks", serde.String, serde.JSON[Click]())
	mobile := in.Filter(func(_ string, c Click) bool { return c.Device == "mobile" })
	byPage := stream.GroupBy(mobile, func(_ string, c Click) string { return c.Page }, serde.String, stream.Named("by-page"))
	views := table.Count(byPage, table.Named("views-per-page"))

	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "state"), CommitInterval: 20 * time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	pages := []string{"/cart", "/home", "/shoes"}
	counted := func() bool { // all 4 mobile clicks are in the table
		var total int64
		for _, p := range pages {
			n, _, _ := table.Lookup(app, views, p)
			total += n
		}
		return total == 4
	}
	err = exRunUntil(app, counted, func() {
		for _, p := range pages {
			n, _, _ := table.Lookup(app, views, p)
			fmt.Println(p, n)
		}
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// /cart 2
	// /home 1
	// /shoes 1
}

// firstVisits forwards the first page each user visits and drops the rest,
// remembering users in its store.
type firstVisits struct {
	pc   *stream.ProcessorContext[string, string]
	seen stream.KeyValueStore[string, int64]
}

func (f *firstVisits) Init(pc *stream.ProcessorContext[string, string]) error {
	raw, err := pc.Store("seen-users")
	if err != nil {
		return err
	}
	f.pc, f.seen = pc, stream.TypedStore(raw, serde.String, serde.Int64)
	return nil
}

func (f *firstVisits) Process(r stream.Record[string, string]) error {
	if _, seen, err := f.seen.Get(r.Key); err != nil || seen {
		return err
	}
	if err := f.seen.Put(r.Key, r.Timestamp); err != nil {
		return err
	}
	return f.pc.Forward(r)
}

func (f *firstVisits) Close() error { return nil }

// A custom processor with a store of its own: each user's first visit.
func ExampleProcess() {
	client, dir, closeBroker := exBroker("visits")
	defer closeBroker()
	exProduce(client, "visits", exRecord{"ann", "/home", 1}, exRecord{"bob", "/cart", 2},
		exRecord{"ann", "/shoes", 3}, exRecord{"cid", "/home", 4}, exRecord{"bob", "/home", 5})

	b := stream.NewBuilder("first-visits")
	visits := stream.From(b, "visits", serde.String, serde.String)
	first := stream.Process(visits,
		func() stream.Processor[string, string, string, string] { return &firstVisits{} },
		stream.Named("first-visit"), stream.WithStore("seen-users"))
	first.ForEach(func(user, page string) { fmt.Println(user, "first visited", page) })

	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "state")})
	if err != nil {
		fmt.Println(err)
		return
	}
	cidSeen := func() bool { // the last new user is in the store
		raw, err := app.Store("seen-users", 0)
		if err != nil {
			return false
		}
		_, ok, _ := stream.TypedStore(raw, serde.String, serde.Int64).Get("cid")
		return ok
	}
	if err := exRunUntil(app, cidSeen, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ann first visited /home
	// bob first visited /cart
	// cid first visited /home
}

// activeUsers reports, every minute of event time, how many distinct users
// were active since its last report.
type activeUsers struct {
	pc    *stream.ProcessorContext[int64, int]
	users stream.KeyValueStore[string, bool]
}

func (a *activeUsers) Init(pc *stream.ProcessorContext[int64, int]) error {
	raw, err := pc.Store("active-users")
	if err != nil {
		return err
	}
	a.pc, a.users = pc, stream.TypedStore(raw, serde.String, serde.JSON[bool]())
	return pc.Schedule(time.Minute, stream.StreamTime, a.report)
}

func (a *activeUsers) Process(r stream.Record[string, string]) error {
	return a.users.Put(r.Key, true)
}

func (a *activeUsers) report(streamTime int64) error {
	n := 0
	err := a.users.ForEach(func(user string, _ bool) error { n++; return a.users.Delete(user) })
	if err != nil {
		return err
	}
	return a.pc.Forward(stream.Record[int64, int]{Key: streamTime, Value: n, Timestamp: streamTime})
}

func (a *activeUsers) Close() error { return nil }

// A stream-time punctuation: active users, reported each time the events'
// time passes a minute boundary. The record that moves stream time past
// the boundary is processed before the punctuation runs.
func ExampleProcessorContext_Schedule() {
	client, dir, closeBroker := exBroker("visits")
	defer closeBroker()
	exProduce(client, "visits", exRecord{"ann", "/home", 0}, exRecord{"bob", "/cart", 10_000},
		exRecord{"ann", "/shoes", 50_000}, exRecord{"cid", "/home", 60_000},
		exRecord{"bob", "/home", 70_000}, exRecord{"dan", "/cart", 125_000})

	b := stream.NewBuilder("active-users")
	visits := stream.From(b, "visits", serde.String, serde.String)
	active := stream.Process(visits,
		func() stream.Processor[string, string, int64, int] { return &activeUsers{} },
		stream.WithMemoryStore("active-users"))
	reported := make(chan struct{})
	reports := 0 // touched by the app's goroutine only
	active.ForEach(func(at int64, users int) {
		fmt.Printf("at %ds: %d active users\n", at/1000, users)
		if reports++; reports == 2 {
			close(reported)
		}
	})

	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(dir, "state")})
	if err != nil {
		fmt.Println(err)
		return
	}
	bothReported := func() bool {
		select {
		case <-reported:
			return true
		default:
			return false
		}
	}
	if err := exRunUntil(app, bothReported, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// at 60s: 3 active users
	// at 125s: 2 active users
}

// exRecord is a record for the examples' input, with string key and value.
type exRecord struct {
	key, value string
	ts         int64
}

// exBroker opens an embedded broker in a temporary directory with
// single-partition topics; closeBroker removes it all.
func exBroker(topics ...string) (client broker.Client, dir string, closeBroker func()) {
	dir, err := os.MkdirTemp("", "eddy-example-")
	if err != nil {
		panic(err)
	}
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		panic(err)
	}
	client = br.Embedded()
	for _, t := range topics {
		if err := client.CreateTopics(context.Background(), broker.TopicSpec{Name: t, Partitions: 1}); err != nil {
			panic(err)
		}
	}
	return client, dir, func() { br.Close(); os.RemoveAll(dir) }
}

// exProduce appends records to partition 0 of topic.
func exProduce(client broker.Client, topic string, recs ...exRecord) {
	b := batch.NewBuilder(batch.BuilderOptions{})
	for _, r := range recs {
		b.Add(batch.Record{Key: []byte(r.key), Value: []byte(r.value), Timestamp: r.ts})
	}
	data, err := b.Build(nil)
	if err != nil {
		panic(err)
	}
	if _, err := client.Append(context.Background(), topic, 0, data); err != nil {
		panic(err)
	}
}

// exRunUntil runs app until cond holds (polled), calls then (if any) while
// the app still runs, and stops it; it gives up after ten seconds.
func exRunUntil(app *stream.App, cond func() bool, then func()) error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		select {
		case err := <-done:
			return fmt.Errorf("the app stopped early: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return errors.Join(errors.New("timed out"), <-done)
		}
	}
	if then != nil {
		then()
	}
	stop()
	return <-done
}
