package window_test

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/window"
)

// Fraud detection: cards used for more than 5 payments within a minute.
// Each minute's count comes out once, when the minute is over; the last
// minute closes on the wall clock, since no later payment moves time on.
func Example() {
	b := stream.NewBuilder("fraud")
	payments := stream.From(b, "payments", serde.String, serde.Float64) // card → amount
	perMinute := window.Count(payments.GroupByKey(), window.Tumbling(time.Minute),
		window.Named("payments-per-minute"), window.EmitFinal())
	perMinute.ToStream().
		Filter(func(_ window.Key[string], n int64) bool { return n > 5 }).
		To("suspicious-cards", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "payments", serde.String, serde.Float64)
	noon := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 7 { // card-1: seven payments in 40 seconds
		_ = in.Pipe("card-1", 9.99, noon.Add(time.Duration(i)*6*time.Second))
	}
	for i := range 3 { // card-2: three
		_ = in.Pipe("card-2", 25, noon.Add(time.Duration(i)*15*time.Second))
	}
	_ = in.Pipe("card-1", 5, noon.Add(time.Minute+10*time.Second)) // next minute: card-1's first closes
	_ = d.AdvanceWallClock(2 * time.Minute)                        // then nothing: the rest close on the wall clock

	out := streamtest.Output(d, "suspicious-cards", window.KeySerde(serde.String), serde.Int64)
	for _, r := range out.ReadAll() {
		fmt.Printf("%s: %d payments in [%s, %s)\n", r.Key.Key, r.Value,
			r.Key.StartTime().Format("15:04"), r.Key.EndTime().Format("15:04"))
	}
	// Output:
	// card-1: 7 payments in [12:00, 12:01)
}

// Sessions: clicks no more than 30 minutes apart are one visit. A click
// that arrives late (within the grace period) between two visits merges
// them; the visits merged away are deleted (tombstones) from the table's
// updates, which come out in store order: by end, then start.
func ExampleSession() {
	b := stream.NewBuilder("visits")
	clicks := stream.From(b, "clicks", serde.String, serde.String) // user → page
	visits := window.Count(clicks.GroupByKey(), window.Session(30*time.Minute).Grace(30*time.Minute), window.Named("visits"))
	visits.ToStream().To("visit-clicks", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "clicks", serde.String, serde.String)
	at := func(hhmm string) time.Time {
		t, _ := time.Parse("2006-01-02 15:04", "2024-05-01 "+hhmm)
		return t
	}
	_ = in.Pipe("ann", "/home", at("09:00"))
	_ = in.Pipe("ann", "/cart", at("09:10"))
	_ = in.Pipe("ann", "/home", at("10:00")) // 50 minutes later: a new visit
	_ = in.Pipe("ann", "/help", at("09:35")) // late, and within 30 minutes of both visits
	out := streamtest.Output(d, "visit-clicks", window.KeySerde(serde.String), serde.Int64)
	for _, r := range out.ReadAll() {
		span := r.Key.StartTime().Format("15:04") + "-" + r.Key.EndTime().Add(-time.Millisecond).Format("15:04")
		if r.Tombstone {
			fmt.Println(r.Key.Key, span, "deleted")
		} else {
			fmt.Println(r.Key.Key, span, r.Value, "clicks")
		}
	}
	// Output:
	// ann 09:00-09:00 1 clicks
	// ann 09:00-09:00 deleted
	// ann 09:00-09:10 2 clicks
	// ann 10:00-10:00 1 clicks
	// ann 09:00-09:10 deleted
	// ann 09:00-10:00 4 clicks
	// ann 10:00-10:00 deleted
}

// Fetch reads a key's windows while the app runs: here the hopping
// five-minute windows, every minute, that overlap 12:03-12:04, kept an
// hour for queries (by default windows go once they close).
func ExampleFetch() {
	b := stream.NewBuilder("readings")
	temps := stream.From(b, "temperatures", serde.String, serde.Float64) // sensor → °C
	peaks := window.Reduce(temps.GroupByKey(), window.Hopping(5*time.Minute, time.Minute),
		func(a, b float64) float64 { return max(a, b) }, window.Named("peaks"), window.Retention(time.Hour))

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "temperatures", serde.String, serde.Float64)
	noon := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i, c := range []float64{20.5, 21, 23.5, 22, 19, 18.5} {
		_ = in.Pipe("sensor-1", c, noon.Add(time.Duration(i)*time.Minute+30*time.Second))
	}
	from := noon.Add(3 * time.Minute).UnixMilli()
	windows, err := window.Fetch(d.App(), peaks, "sensor-1", from, from+60_000-1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range windows {
		fmt.Printf("[%s, %s) peak %.1f\n", w.Key.StartTime().Format("15:04"), w.Key.EndTime().Format("15:04"), w.Value)
	}
	// Output:
	// [11:59, 12:04) peak 23.5
	// [12:00, 12:05) peak 23.5
	// [12:01, 12:06) peak 23.5
	// [12:02, 12:07) peak 23.5
	// [12:03, 12:08) peak 22.0
}

// A late payment — after its minute closed, grace included — is counted
// and handed to OnLate instead of silently dropped.
func ExampleOnLate() {
	b := stream.NewBuilder("late")
	payments := stream.From(b, "payments", serde.String, serde.Float64)
	counts := window.Count(payments.GroupByKey(), window.Tumbling(time.Minute).Grace(10*time.Second),
		window.Named("per-minute"),
		window.OnLate(func(card string, amount float64, ts int64) {
			fmt.Printf("late: %s %.2f at %s\n", card, amount, time.UnixMilli(ts).UTC().Format("15:04:05"))
		}))

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "payments", serde.String, serde.Float64)
	noon := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	_ = in.Pipe("card-1", 10, noon.Add(50*time.Second))
	_ = in.Pipe("card-1", 20, noon.Add(65*time.Second))
	_ = in.Pipe("card-1", 30, noon.Add(55*time.Second)) // 12:00 closes at 12:01:10: in time
	_ = in.Pipe("card-1", 40, noon.Add(71*time.Second))
	_ = in.Pipe("card-1", 50, noon.Add(59*time.Second)) // now too late
	n, _ := window.LateRecords(d.App(), counts)
	fmt.Println("late records:", n)
	// Output:
	// late: card-1 50.00 at 12:00:59
	// late records: 1
}

// Sliding windows: a door's openings within 10 seconds of each other, one
// window per distinct set of them. Openings at 0, 4 and 12 s give each
// opening's window [t-10s, t] and, when another follows within 10 s, the
// window just after it, [t+1ms, t+10.001s] (End excluded in the keys).
func ExampleSliding() {
	b := stream.NewBuilder("bursts")
	events := stream.From(b, "events", serde.String, serde.Int64)
	bursts := window.Count(events.GroupByKey(), window.Sliding(10*time.Second), window.Named("bursts"))
	bursts.ToStream().To("burst-sizes", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "events", serde.String, serde.Int64)
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []int{0, 4, 12} {
		_ = in.Pipe("door", 1, t0.Add(time.Duration(s)*time.Second))
	}
	latest := streamtest.LatestByKey(streamtest.Output(d, "burst-sizes", window.KeySerde(serde.String), serde.Int64))
	keys := slices.SortedFunc(maps.Keys(latest), func(a, b window.Key[string]) int { return cmp.Compare(a.Start, b.Start) })
	for _, k := range keys {
		fmt.Printf("[%+.3fs, %+.3fs] %d\n", float64(k.Start-t0.UnixMilli())/1000, float64(k.End-1-t0.UnixMilli())/1000, latest[k])
	}
	// Output:
	// [-10.000s, +0.000s] 1
	// [-6.000s, +4.000s] 2
	// [+0.001s, +10.001s] 1
	// [+2.000s, +12.000s] 2
	// [+4.001s, +14.001s] 1
}
