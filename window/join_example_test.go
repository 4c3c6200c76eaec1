package window_test

import (
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/window"
)

// Orders matched with their payments: a payment counts if it comes within
// ten minutes of the order, either way. Both streams are keyed by order id.
func ExampleJoin() {
	b := stream.NewBuilder("shop")
	orders := stream.From(b, "orders", serde.String, serde.Int64)      // order → amount due, cents
	payments := stream.From(b, "payments", serde.String, serde.String) // order → payment method
	window.Join(orders, payments, window.JoinWindows(10*time.Minute),
		func(order string, cents int64, method string) string {
			return fmt.Sprintf("%s: %d.%02d paid by %s", order, cents/100, cents%100, method)
		}, serde.String, window.Named("paid-orders")).To("paid", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	o := streamtest.Input(d, "orders", serde.String, serde.Int64)
	p := streamtest.Input(d, "payments", serde.String, serde.String)
	noon := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	_ = o.Pipe("o1", 1250, noon)
	_ = p.Pipe("o1", "card", noon.Add(4*time.Minute))
	_ = p.Pipe("o2", "cash", noon.Add(5*time.Minute)) // paid before it was ordered: within ten minutes
	_ = o.Pipe("o2", 300, noon.Add(6*time.Minute))
	_ = o.Pipe("o3", 999, noon.Add(7*time.Minute))
	_ = p.Pipe("o3", "card", noon.Add(30*time.Minute)) // too late to match
	for _, r := range streamtest.Output(d, "paid", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Time().Format("15:04"), r.Value)
	}
	// Output:
	// 12:04 o1: 12.50 paid by card
	// 12:06 o2: 3.00 paid by cash
}

// Ad impressions and the clicks they lead to within ten minutes after
// them, with a minute's grace for clicks that arrive out of order. An
// impression nobody clicked comes out once its window has closed — when
// time passes it by ten minutes plus the grace — because a click could
// arrive until then; the last one closes on the wall clock, since no
// later record moves time on.
func ExampleLeftJoin() {
	b := stream.NewBuilder("ads")
	impressions := stream.From(b, "impressions", serde.String, serde.String) // impression → campaign
	clicks := stream.From(b, "clicks", serde.String, serde.String)           // impression → landing page
	window.LeftJoin(impressions, clicks, window.JoinWindows(10*time.Minute).Before(0).Grace(time.Minute),
		func(id, campaign, page string, clicked bool) string {
			if !clicked {
				return fmt.Sprintf("%s (%s): not clicked", id, campaign)
			}
			return fmt.Sprintf("%s (%s): clicked through to %s", id, campaign, page)
		}, serde.String, window.Named("ad-clicks")).To("ad-outcomes", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	imp := streamtest.Input(d, "impressions", serde.String, serde.String)
	clk := streamtest.Input(d, "clicks", serde.String, serde.String)
	noon := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	_ = imp.Pipe("i1", "summer-sale", noon)
	_ = imp.Pipe("i2", "summer-sale", noon.Add(time.Minute))
	_ = clk.Pipe("i1", "/shoes", noon.Add(3*time.Minute))
	_ = imp.Pipe("i3", "new-shoes", noon.Add(20*time.Minute)) // time passes 12:12: i2's window closes
	_ = d.AdvanceWallClock(time.Hour)                         // then nothing: i3's closes on the wall clock
	for _, r := range streamtest.Output(d, "ad-outcomes", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Time().Format("15:04"), r.Value)
	}
	// Output:
	// 12:03 i1 (summer-sale): clicked through to /shoes
	// 12:01 i2 (summer-sale): not clicked
	// 12:20 i3 (new-shoes): not clicked
}

// An outer join keeps the records of both sides: here sensor readings of
// two rooms' thermometers, paired when they come within a second of each
// other, and each reading that found no partner alone.
func ExampleOuterJoin() {
	b := stream.NewBuilder("rooms")
	kitchen := stream.From(b, "kitchen", serde.String, serde.Float64) // house → °C
	garage := stream.From(b, "garage", serde.String, serde.Float64)
	window.OuterJoin(kitchen, garage, window.JoinWindows(time.Second),
		func(house string, k float64, kok bool, g float64, gok bool) string {
			switch {
			case !gok:
				return fmt.Sprintf("%s: kitchen %.1f, garage silent", house, k)
			case !kok:
				return fmt.Sprintf("%s: garage %.1f, kitchen silent", house, g)
			}
			return fmt.Sprintf("%s: kitchen %.1f, garage %.1f", house, k, g)
		}, serde.String, window.Named("house-temperatures"), window.CloseIdleAfter(0)).To("temperatures", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	k := streamtest.Input(d, "kitchen", serde.String, serde.Float64)
	g := streamtest.Input(d, "garage", serde.String, serde.Float64)
	t0 := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	_ = k.Pipe("h1", 21.5, t0)
	_ = g.Pipe("h1", 9.0, t0.Add(500*time.Millisecond))
	_ = k.Pipe("h1", 21.7, t0.Add(5*time.Second))
	_ = g.Pipe("h1", 8.5, t0.Add(9*time.Second))
	_ = k.Pipe("h1", 21.9, t0.Add(20*time.Second)) // moves time on: the lone readings' windows close
	for _, r := range streamtest.Output(d, "temperatures", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Time().Format("15:04:05"), r.Value)
	}
	// Output:
	// 08:00:00 h1: kitchen 21.5, garage 9.0
	// 08:00:05 h1: kitchen 21.7, garage silent
	// 08:00:09 h1: garage 8.5, kitchen silent
}
