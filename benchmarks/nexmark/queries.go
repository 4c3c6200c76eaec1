package nexmark

import (
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/window"
)

// Query is one Nexmark query: how to build it into a topology, which
// topics it reads, and how to check what it wrote against the query's
// reference computed directly from the events.
type Query struct {
	Name        string
	Description string
	// Inputs are the kinds of events the query reads.
	Inputs []Kind
	// Build adds the query to the topology of src, writing its results to
	// the topic out (which must exist).
	Build func(src *Sources, out string, p Params)
	// Check compares the records the query wrote (in the order it wrote
	// them within each partition) with its reference over events (in the
	// order they were written to the topics). Windowed queries expect
	// every window to have closed.
	Check func(out []Output, events []Event, p Params) error
}

// Params are the knobs of the windowed queries.
type Params struct {
	// Grace is how long after a window's end its records may still arrive
	// (window.TimeWindows.Grace). Generator.MaxLateness is enough when the
	// events are processed in the order they were generated; processing
	// several partitions, or repartitioned records, can reorder them
	// further.
	Grace time.Duration
	// CloseIdleAfter is how long the windowed queries' operators wait,
	// on the wall clock, without records before they close windows as on
	// an idle partition (window.CloseIdleAfter); 0 leaves the window
	// package's default. Run sets it well above the clock movement of
	// its settling, so that only its final hour ahead closes the last
	// windows.
	CloseIdleAfter time.Duration
}

// windowOptions are the options every windowed query's operator takes
// from p.
func (p Params) windowOptions(name string) []window.Option {
	opts := []window.Option{window.Named(name), window.EmitFinal()}
	if p.CloseIdleAfter > 0 {
		opts = append(opts, window.CloseIdleAfter(p.CloseIdleAfter))
	}
	return opts
}

// Queries returns the queries eddy implements, in Nexmark's numbering.
func Queries() []Query {
	bids, both := []Kind{KindBid}, []Kind{KindAuction, KindBid}
	return []Query{
		{Name: "q0", Description: "pass-through: every bid read and written again (5 columns)", Inputs: bids, Build: Q0, Check: checkQ0},
		{Name: "q1", Description: "currency conversion: bid prices in euros", Inputs: bids, Build: Q1, Check: checkQ1},
		{Name: "q2", Description: "selection: bids on every 123rd auction", Inputs: bids, Build: Q2, Check: checkQ2},
		{Name: "q3", Description: "local item suggestion: category-10 auctions by OR/ID/CA sellers", Inputs: []Kind{KindPerson, KindAuction}, Build: Q3, Check: checkQ3},
		{Name: "q4", Description: "average winning price per category", Inputs: both, Build: Q4, Check: checkQ4},
		{Name: "q5", Description: "hot items: most-bid auctions per 10 s window every 2 s", Inputs: bids, Build: Q5, Check: checkQ5},
		{Name: "q7", Description: "highest bid per 10 s window", Inputs: bids, Build: Q7, Check: checkQ7},
		{Name: "q8", Description: "new users: persons who opened an auction in the 10 s they joined", Inputs: []Kind{KindPerson, KindAuction}, Build: Q8, Check: checkQ8},
	}
}

// Q0 is Nexmark's pass-through query, as Flink's q0.sql selects it: every
// bid's auction, bidder, price, dateTime and extra (a BidRow) is read,
// decoded, encoded and written to out, keyed by auction. It measures the
// cost of the plumbing.
func Q0(src *Sources, out string, _ Params) {
	src.BidRows().To(out, serde.Int64, BidRowSerde(), stream.SinkNamed[int64, BidRow]("q0-sink"))
}

// DollarsToEuros converts a price in dollar cents to euro cents at Beam's
// Nexmark rate of 0.89, rounding down (Flink's SQL version multiplies by
// 0.908 in floating point).
func DollarsToEuros(cents int64) int64 { return cents * 89 / 100 }

// Q1 is Nexmark's currency conversion: every bid with its price converted
// by DollarsToEuros, keyed by auction.
func Q1(src *Sources, out string, _ Params) {
	euros := stream.MapValues(src.Bids(), func(_ int64, b Bid) Bid {
		b.Price = DollarsToEuros(b.Price)
		return b
	}, stream.Serdes(serde.Int64, BidSerde()), stream.As[int64, Bid]("q1-to-euros"))
	euros.To(out, nil, nil, stream.SinkNamed[int64, Bid]("q1-sink"))
}

// AuctionSkip is Q2's selectivity: it keeps bids on auctions whose id is a
// multiple of it (Nexmark's auctionSkip).
const AuctionSkip = 123

// AuctionPrice is Q2's result: a bid's auction and price.
type AuctionPrice struct {
	Auction int64 `json:"auction"`
	Price   int64 `json:"price"`
}

// Q2 is Nexmark's selection: the auction and price of bids on auctions
// whose id is a multiple of AuctionSkip, keyed by auction.
func Q2(src *Sources, out string, _ Params) {
	picked := src.Bids().Filter(func(auction int64, _ Bid) bool { return auction%AuctionSkip == 0 }, stream.Named("q2-select"))
	prices := stream.MapValues(picked, func(_ int64, b Bid) AuctionPrice { return AuctionPrice{Auction: b.Auction, Price: b.Price} },
		stream.Serdes(serde.Int64, serde.JSON[AuctionPrice]()), stream.As[int64, AuctionPrice]("q2-project"))
	prices.To(out, nil, nil, stream.SinkNamed[int64, AuctionPrice]("q2-sink"))
}
