package nexmark

import (
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// CategoryPrice is Q4's result: over the auctions of a category that
// received a bid while open, the sum and the average (rounded down) of
// each auction's highest such bid.
type CategoryPrice struct {
	Category int64 `json:"category"`
	Auctions int64 `json:"auctions"`
	Sum      int64 `json:"sum"`
	Average  int64 `json:"average"`
}

// auctionOrBid carries either event through Q4's merged stream, keyed by
// auction id.
type auctionOrBid struct {
	Auction *Auction `json:"auction,omitempty"`
	Bid     *Bid     `json:"bid,omitempty"`
}

// priceDelta is how one auction's highest bid changes its category's
// totals: Sum by the price's increase, Auctions by 1 on its first bid.
type priceDelta struct {
	Auctions int64 `json:"auctions"`
	Sum      int64 `json:"sum"`
}

// q4Auction is what Q4 keeps per auction: its category and open time once
// it is known, the highest bid made while it was open, and until then the
// bids that arrived before it.
type q4Auction struct {
	Known    bool         `json:"known"`
	Category int64        `json:"category"`
	Opens    int64        `json:"opens"`
	Expires  int64        `json:"expires"`
	Highest  int64        `json:"highest"`
	Pending  []timedPrice `json:"pending,omitempty"`
}

type timedPrice struct {
	Time  int64 `json:"t"`
	Price int64 `json:"p"`
}

// open reports whether a bid at t counts for the auction: from its opening
// to its expiry, both included, as in Flink's SQL version (BETWEEN).
func (a *q4Auction) open(t int64) bool { return t >= a.Opens && t <= a.Expires }

// Q4 is Nexmark's average price per category, in the shape of Flink's SQL
// version: each auction's price is its highest bid made while it was open
// (from its dateTime to its expiry, both included; no reserve), and each
// category's result the average over its auctions with such a bid, kept
// up to date as bids arrive. It is exact whatever the order of arrival: a
// processor keyed by auction keeps the bids that come before their auction
// until it does, then forwards each change of an auction's highest bid to
// its category, where a table adds them up.
func Q4(src *Sources, out string, _ Params) {
	vs := stream.Serdes(serde.Int64, serde.JSON[auctionOrBid]())
	auctions := stream.MapValues(src.Auctions(), func(_ int64, a Auction) auctionOrBid { return auctionOrBid{Auction: &a} }, vs, stream.As[int64, auctionOrBid]("q4-auctions"))
	bids := stream.MapValues(src.Bids(), func(_ int64, b Bid) auctionOrBid { return auctionOrBid{Bid: &b} }, vs, stream.As[int64, auctionOrBid]("q4-bids"))
	deltas := stream.Process(auctions.Merge(bids), func() stream.Processor[int64, auctionOrBid, int64, priceDelta] { return &highestBids{} },
		stream.Named("q4-highest-bids"), stream.WithStore(q4Store), stream.Serdes(serde.Int64, serde.JSON[priceDelta]()))
	totals := table.Aggregate(deltas.GroupByKey(stream.Named("q4-by-category")),
		func() CategoryPrice { return CategoryPrice{} },
		func(category int64, d priceDelta, acc CategoryPrice) CategoryPrice {
			acc.Category = category
			acc.Auctions += d.Auctions
			acc.Sum += d.Sum
			acc.Average = acc.Sum / acc.Auctions
			return acc
		}, serde.JSON[CategoryPrice](), table.Named("q4-categories"))
	totals.ToStream().To(out, serde.Int64, serde.JSON[CategoryPrice](), stream.SinkNamed[int64, CategoryPrice]("q4-sink"))
}

const q4Store = "q4-auctions-state"

// highestBids is Q4's per-task processor.
type highestBids struct {
	pc *stream.ProcessorContext[int64, priceDelta]
	st stream.KeyValueStore[int64, q4Auction]
}

func (h *highestBids) Init(pc *stream.ProcessorContext[int64, priceDelta]) error {
	raw, err := pc.Store(q4Store)
	if err != nil {
		return err
	}
	h.pc, h.st = pc, stream.TypedStore(raw, serde.Int64, serde.JSON[q4Auction]())
	return nil
}

func (h *highestBids) Process(r stream.Record[int64, auctionOrBid]) error {
	if r.Tombstone {
		return nil
	}
	a, _, err := h.st.Get(r.Key)
	if err != nil {
		return err
	}
	old := a.Highest
	switch ev := r.Value; {
	case ev.Auction != nil:
		a.Known, a.Category, a.Opens, a.Expires = true, ev.Auction.Category, ev.Auction.DateTime, ev.Auction.Expires
		for _, p := range a.Pending {
			if a.open(p.Time) {
				a.Highest = max(a.Highest, p.Price)
			}
		}
		a.Pending = nil
	case ev.Bid != nil && a.Known:
		if !a.open(ev.Bid.DateTime) || ev.Bid.Price <= a.Highest {
			return nil
		}
		a.Highest = ev.Bid.Price
	case ev.Bid != nil:
		a.Pending = append(a.Pending, timedPrice{Time: ev.Bid.DateTime, Price: ev.Bid.Price})
	}
	if err := h.st.Put(r.Key, a); err != nil {
		return err
	}
	if a.Highest == old {
		return nil
	}
	d := priceDelta{Sum: a.Highest - old}
	if old == 0 {
		d.Auctions = 1
	}
	return h.pc.Forward(stream.Record[int64, priceDelta]{Key: a.Category, Value: d, Timestamp: r.Timestamp})
}

func (h *highestBids) Close() error { return nil }
