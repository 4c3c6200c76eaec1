package nexmark

import (
	"cmp"
	"slices"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// The windows of Flink's Nexmark queries: Q5 counts bids in windows of
// 10 s starting every 2 s, Q7 and Q8 use tumbling windows of 10 s.
const (
	q5Size    = 10 * time.Second
	q5Advance = 2 * time.Second
	q7Size    = 10 * time.Second
	q8Size    = 10 * time.Second
)

// HotItems is Q5's result for one window: the auctions with the most bids
// in it (all of them if several tie), in id order.
type HotItems struct {
	Start    int64   `json:"start"`
	End      int64   `json:"end"`
	Bids     int64   `json:"bids"`
	Auctions []int64 `json:"auctions"`
}

// auctionCount is Q5's intermediate record: one auction's bids in one
// window.
type auctionCount struct {
	Auction int64 `json:"auction"`
	End     int64 `json:"end"`
	Bids    int64 `json:"bids"`
}

// Q5 is Nexmark's hot items: for each window of 10 s (starting every 2 s),
// the auctions with the most bids. Each auction's bids are counted per
// window where the bids already are (partitioned by auction), each count
// sent once its window has closed (window.EmitFinal) to the partition of
// its window, where the largest counts are kept, keyed by window start.
// A window closes when the task's time passes its end + p.Grace.
func Q5(src *Sources, out string, p Params) {
	counts := window.Count(src.Bids().GroupByKey(), window.Hopping(q5Size, q5Advance).Grace(p.Grace),
		p.windowOptions("q5-bids-per-auction")...)
	byWindow := stream.Map(counts.ToStream(), func(k window.Key[int64], n int64) (int64, auctionCount) {
		return k.Start, auctionCount{Auction: k.Key, End: k.End, Bids: n}
	}, stream.Serdes(serde.Int64, auctionCountSerde()), stream.As[int64, auctionCount]("q5-key-by-window"))
	hot := table.Aggregate(byWindow.GroupByKey(stream.Named("q5-by-window")), func() HotItems { return HotItems{} },
		func(start int64, c auctionCount, acc HotItems) HotItems {
			acc.Start, acc.End = start, c.End
			switch {
			case c.Bids > acc.Bids:
				acc.Bids, acc.Auctions = c.Bids, []int64{c.Auction}
			case c.Bids == acc.Bids:
				i, _ := slices.BinarySearch(acc.Auctions, c.Auction)
				acc.Auctions = slices.Insert(acc.Auctions, i, c.Auction)
			}
			return acc
		}, hotItemsSerde(), table.Named("q5-hot-items"))
	hot.ToStream().To(out, serde.Int64, serde.JSON[HotItems](), stream.SinkNamed[int64, HotItems]("q5-sink"))
}

// HighestBid is Q7's result for one window: the highest price bid in it
// and the bids at that price (all of them if several tie, in bidOrder).
type HighestBid struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Price int64 `json:"price"`
	Bids  []Bid `json:"bids"`
}

// bidOrder orders tied bids the same way however they arrived.
func bidOrder(a, b Bid) int {
	return cmp.Or(cmp.Compare(a.DateTime, b.DateTime), cmp.Compare(a.Auction, b.Auction), cmp.Compare(a.Bidder, b.Bidder),
		cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.URL, b.URL), cmp.Compare(a.Extra, b.Extra))
}

// keepHighest adds bids to acc, keeping the highest price's only.
func keepHighest(acc HighestBid, price int64, bids ...Bid) HighestBid {
	switch {
	case price > acc.Price:
		acc.Price, acc.Bids = price, slices.Clone(bids)
	case price == acc.Price:
		acc.Bids = append(acc.Bids, bids...)
	default:
		return acc
	}
	slices.SortFunc(acc.Bids, bidOrder)
	return acc
}

// Q7 is Nexmark's highest bid: for each tumbling window of 10 s, the
// highest bid. Each auction's highest bids per window are found where the
// bids are, sent once the window has closed to the partition of the
// window, and the highest of those kept there, keyed by window start.
func Q7(src *Sources, out string, p Params) {
	perAuction := window.Aggregate(src.Bids().GroupByKey(), window.Tumbling(q7Size).Grace(p.Grace),
		func() HighestBid { return HighestBid{} },
		func(_ int64, b Bid, acc HighestBid) HighestBid { return keepHighest(acc, b.Price, b) },
		highestBidSerde(), p.windowOptions("q7-highest-per-auction")...)
	byWindow := stream.Map(perAuction.ToStream(), func(k window.Key[int64], h HighestBid) (int64, HighestBid) {
		h.Start, h.End = k.Start, k.End
		return k.Start, h
	}, stream.Serdes(serde.Int64, highestBidSerde()), stream.As[int64, HighestBid]("q7-key-by-window"))
	highest := table.Aggregate(byWindow.GroupByKey(stream.Named("q7-by-window")), func() HighestBid { return HighestBid{} },
		func(_ int64, h HighestBid, acc HighestBid) HighestBid {
			acc = keepHighest(acc, h.Price, h.Bids...)
			acc.Start, acc.End = h.Start, h.End
			return acc
		}, highestBidSerde(), table.Named("q7-highest"))
	highest.ToStream().To(out, serde.Int64, serde.JSON[HighestBid](), stream.SinkNamed[int64, HighestBid]("q7-sink"))
}

// NewUser is Q8's result: a person who opened an auction in the same
// tumbling window of 10 s as they joined.
type NewUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

// activity is what Q8 gathers per person and window.
type activity struct {
	Name    string `json:"name,omitempty"`
	Joined  bool   `json:"joined,omitempty"`
	Auction bool   `json:"auction,omitempty"`
}

// Q8 is Nexmark's monitoring of new users: the persons who opened an
// auction within the tumbling window of 10 s in which they joined, keyed by
// person id. Persons (by id) and auctions (by seller) go through one
// repartition topic, so the window operator sees them in one stream, and
// each window's activity is looked at once it has closed.
func Q8(src *Sources, out string, p Params) {
	vs := stream.Serdes(serde.Int64, activitySerde())
	joined := stream.MapValues(src.Persons(), func(_ int64, p Person) activity { return activity{Name: p.Name, Joined: true} },
		vs, stream.As[int64, activity]("q8-joined"))
	sold := stream.Map(src.Listings(), func(_ int64, a Listing) (int64, activity) { return a.Seller, activity{Auction: true} },
		vs, stream.As[int64, activity]("q8-sold"))
	acts := window.Aggregate(joined.Merge(sold).GroupByKey(stream.Named("q8-by-person")), window.Tumbling(q8Size).Grace(p.Grace),
		func() activity { return activity{} },
		func(_ int64, a activity, acc activity) activity {
			if a.Joined {
				acc.Name, acc.Joined = a.Name, true
			}
			acc.Auction = acc.Auction || a.Auction
			return acc
		}, activitySerde(), p.windowOptions("q8-activity")...)
	both := acts.ToStream().Filter(func(_ window.Key[int64], a activity) bool { return a.Joined && a.Auction }, stream.Named("q8-both"))
	users := stream.Map(both, func(k window.Key[int64], a activity) (int64, NewUser) {
		return k.Key, NewUser{ID: k.Key, Name: a.Name, Start: k.Start, End: k.End}
	}, stream.Serdes(serde.Int64, NewUserSerde()), stream.As[int64, NewUser]("q8-new-users"))
	users.To(out, nil, nil, stream.SinkNamed[int64, NewUser]("q8-sink"))
}
