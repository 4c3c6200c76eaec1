package nexmark

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/eddy-streams/eddy/serde"
)

// The references compute each query's results directly from the events,
// in the order the events were written, with nothing of eddy in between;
// the checks compare a query's output records with them.

// Output is one record a query wrote: its int64 key and its value (JSON,
// or the binary encoding of BidSerde for q0 and q1), nil for a tombstone.
type Output struct {
	Partition int32
	Offset    int64
	Timestamp int64
	Key       int64
	Value     []byte
}

// Keyed is one expected output record of a per-record query.
type Keyed[V any] struct {
	Key       int64
	Value     V
	Timestamp int64
}

// RefQ0 is every bid as a BidRow, keyed by auction.
func RefQ0(events []Event) []Keyed[BidRow] {
	bids := allBids(events)
	out := make([]Keyed[BidRow], len(bids))
	for i, b := range bids {
		out[i] = Keyed[BidRow]{Key: b.Key, Value: b.Value.Row(), Timestamp: b.Timestamp}
	}
	return out
}

// allBids is every bid, keyed by auction.
func allBids(events []Event) []Keyed[Bid] {
	var out []Keyed[Bid]
	for _, e := range events {
		if e.Bid != nil {
			out = append(out, Keyed[Bid]{Key: e.Bid.Auction, Value: *e.Bid, Timestamp: e.Bid.DateTime})
		}
	}
	return out
}

// RefQ1 is every bid with its price in euros.
func RefQ1(events []Event) []Keyed[Bid] {
	out := allBids(events)
	for i := range out {
		out[i].Value.Price = DollarsToEuros(out[i].Value.Price)
	}
	return out
}

// RefQ2 is the auction and price of the bids on every AuctionSkip-th
// auction.
func RefQ2(events []Event) []Keyed[AuctionPrice] {
	var out []Keyed[AuctionPrice]
	for _, e := range events {
		if b := e.Bid; b != nil && b.Auction%AuctionSkip == 0 {
			out = append(out, Keyed[AuctionPrice]{Key: b.Auction, Value: AuctionPrice{b.Auction, b.Price}, Timestamp: b.DateTime})
		}
	}
	return out
}

func checkQ0(out []Output, events []Event, _ Params) error {
	return checkPerKeyOrder(out, RefQ0(events), BidRowSerde())
}
func checkQ1(out []Output, events []Event, _ Params) error {
	return checkPerKeyOrder(out, RefQ1(events), BidSerde())
}
func checkQ2(out []Output, events []Event, _ Params) error {
	return checkPerKeyOrder(out, RefQ2(events), serde.JSON[AuctionPrice]())
}

// checkPerKeyOrder compares the output of a per-record query with the
// expected records: the same records, and for each key in the same order
// (a key's records share a partition, whose order the app keeps; records of
// different keys may interleave differently).
func checkPerKeyOrder[V comparable](out []Output, want []Keyed[V], vs serde.Serde[V]) error {
	if len(out) != len(want) {
		return fmt.Errorf("%d records, want %d", len(out), len(want))
	}
	byKey := map[int64][]Keyed[V]{}
	for _, w := range want {
		byKey[w.Key] = append(byKey[w.Key], w)
	}
	seen := map[int64]int{}
	for _, r := range out {
		v, err := vs.Deserialize("", r.Value)
		if err != nil {
			return fmt.Errorf("partition %d offset %d: %w", r.Partition, r.Offset, err)
		}
		i := seen[r.Key]
		exp := byKey[r.Key]
		if i >= len(exp) {
			return fmt.Errorf("partition %d offset %d: key %d has more records than the %d expected", r.Partition, r.Offset, r.Key, len(exp))
		}
		if w := exp[i]; v != w.Value || r.Timestamp != w.Timestamp {
			return fmt.Errorf("partition %d offset %d: record %d of key %d is %+v at %d, want %+v at %d",
				r.Partition, r.Offset, i, r.Key, v, r.Timestamp, w.Value, w.Timestamp)
		}
		seen[r.Key] = i + 1
	}
	return nil
}

// latestByKey folds output records into the table they describe: each
// key's last value, decoded by decode, a tombstone deleting it.
func latestByKey[V any](out []Output, decode func([]byte) (V, error)) (map[int64]V, error) {
	m := map[int64]V{}
	for _, r := range out {
		if r.Value == nil {
			delete(m, r.Key)
			continue
		}
		v, err := decode(r.Value)
		if err != nil {
			return nil, fmt.Errorf("partition %d offset %d: %w", r.Partition, r.Offset, err)
		}
		m[r.Key] = v
	}
	return m, nil
}

// fromJSON decodes an output value written as JSON.
func fromJSON[V any](b []byte) (V, error) {
	var v V
	err := json.Unmarshal(b, &v)
	return v, err
}

// checkTable compares the table the output describes, in JSON, with want.
func checkTable[V any](out []Output, want map[int64]V) error {
	return checkTableOf(out, want, fromJSON[V])
}

// checkTableOf is checkTable for values decode reads.
func checkTableOf[V any](out []Output, want map[int64]V, decode func([]byte) (V, error)) error {
	got, err := latestByKey(out, decode)
	if err != nil {
		return err
	}
	keys := make([]int64, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("key %d missing (of %d keys, %d present); want %+v", k, len(want), len(got), want[k])
		}
		if !reflect.DeepEqual(g, want[k]) {
			return fmt.Errorf("key %d is %+v, want %+v", k, g, want[k])
		}
	}
	if len(got) != len(want) {
		for k, g := range got {
			if _, ok := want[k]; !ok {
				return fmt.Errorf("key %d is %+v, want none (%d keys, %d expected)", k, g, len(got), len(want))
			}
		}
	}
	return nil
}

// RefQ3 is every category-10 auction whose seller is a person from OR, ID
// or CA, by auction id.
func RefQ3(events []Event) map[int64]LocalItem {
	local := map[int64]*Person{}
	for _, e := range events {
		if p := e.Person; p != nil && q3State(p.State) {
			local[p.ID] = p
		}
	}
	out := map[int64]LocalItem{}
	for _, e := range events {
		if a := e.Auction; a != nil && a.Category == q3Category {
			if p := local[a.Seller]; p != nil {
				out[a.ID] = LocalItem{Name: p.Name, City: p.City, State: p.State, Auction: a.ID}
			}
		}
	}
	return out
}

func checkQ3(out []Output, events []Event, _ Params) error {
	want := RefQ3(events)
	// The join never pairs an auction with the wrong person, even for a
	// moment: every update it wrote is the final pair.
	for _, r := range out {
		if r.Value == nil {
			continue
		}
		var v LocalItem
		if err := json.Unmarshal(r.Value, &v); err != nil {
			return err
		}
		if w, ok := want[r.Key]; !ok || v != w {
			return fmt.Errorf("partition %d offset %d: auction %d paired as %+v, want %+v (%v)", r.Partition, r.Offset, r.Key, v, w, ok)
		}
	}
	return checkTable(out, want)
}

// RefQ4 is, per category, the sum and average of the highest bid of each
// auction that got a bid while open (from its dateTime to its expiry, both
// included).
func RefQ4(events []Event) map[int64]CategoryPrice {
	auctions := map[int64]*Auction{}
	for _, e := range events {
		if e.Auction != nil {
			auctions[e.Auction.ID] = e.Auction
		}
	}
	highest := map[int64]int64{}
	for _, e := range events {
		if b := e.Bid; b != nil {
			if a := auctions[b.Auction]; a != nil && b.DateTime >= a.DateTime && b.DateTime <= a.Expires {
				highest[a.ID] = max(highest[a.ID], b.Price)
			}
		}
	}
	out := map[int64]CategoryPrice{}
	for id, price := range highest {
		c := out[auctions[id].Category]
		c.Category = auctions[id].Category
		c.Auctions++
		c.Sum += price
		out[c.Category] = c
	}
	for k, c := range out {
		c.Average = c.Sum / c.Auctions
		out[k] = c
	}
	return out
}

func checkQ4(out []Output, events []Event, _ Params) error { return checkTable(out, RefQ4(events)) }

// windowsOf returns the starts of the windows of size and advance (ms,
// aligned to the epoch) that contain t, earliest first.
func windowsOf(t, size, advance int64) []int64 {
	var starts []int64
	for s := t - t%advance; s > t-size && s >= 0; s -= advance {
		starts = append(starts, s)
	}
	slices.Reverse(starts)
	return starts
}

// RefQ5 is, per 10 s window starting every 2 s, the auctions with the most
// bids, by window start.
func RefQ5(events []Event) map[int64]HotItems {
	size, adv := q5Size.Milliseconds(), q5Advance.Milliseconds()
	type auctionWindow struct{ auction, start int64 }
	counts := map[auctionWindow]int64{}
	for _, e := range events {
		if b := e.Bid; b != nil {
			for _, s := range windowsOf(b.DateTime, size, adv) {
				counts[auctionWindow{b.Auction, s}]++
			}
		}
	}
	out := map[int64]HotItems{}
	for aw, n := range counts {
		h := out[aw.start]
		h.Start, h.End = aw.start, aw.start+size
		switch {
		case n > h.Bids:
			h.Bids, h.Auctions = n, []int64{aw.auction}
		case n == h.Bids:
			h.Auctions = append(h.Auctions, aw.auction)
		}
		out[aw.start] = h
	}
	for _, h := range out {
		slices.Sort(h.Auctions)
	}
	return out
}

func checkQ5(out []Output, events []Event, _ Params) error { return checkTable(out, RefQ5(events)) }

// RefQ7 is, per tumbling window of 10 s, the highest bid price and the
// bids at that price, by window start.
func RefQ7(events []Event) map[int64]HighestBid {
	size := q7Size.Milliseconds()
	out := map[int64]HighestBid{}
	for _, e := range events {
		if b := e.Bid; b != nil {
			s := b.DateTime - b.DateTime%size
			h := keepHighest(out[s], b.Price, *b)
			h.Start, h.End = s, s+size
			out[s] = h
		}
	}
	return out
}

func checkQ7(out []Output, events []Event, _ Params) error { return checkTable(out, RefQ7(events)) }

// RefQ8 is every person who opened an auction within the tumbling window
// of 10 s in which they joined, by person id.
func RefQ8(events []Event) map[int64]NewUser {
	size := q8Size.Milliseconds()
	type personWindow struct{ id, start int64 }
	sold := map[personWindow]bool{}
	for _, e := range events {
		if a := e.Auction; a != nil {
			sold[personWindow{a.Seller, a.DateTime - a.DateTime%size}] = true
		}
	}
	out := map[int64]NewUser{}
	for _, e := range events {
		if p := e.Person; p != nil {
			s := p.DateTime - p.DateTime%size
			if sold[personWindow{p.ID, s}] {
				out[p.ID] = NewUser{ID: p.ID, Name: p.Name, Start: s, End: s + size}
			}
		}
	}
	return out
}

func checkQ8(out []Output, events []Event, _ Params) error {
	want := RefQ8(events)
	// Each window is reported once, when it closes.
	if len(out) != len(want) {
		return fmt.Errorf("%d records, want one per new user: %d", len(out), len(want))
	}
	users := NewUserSerde()
	return checkTableOf(out, want, func(b []byte) (NewUser, error) { return users.Deserialize("q8", b) })
}
