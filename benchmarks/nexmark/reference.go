package nexmark

import (
	"context"
	"fmt"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
)

// The references compute each query's results directly from the events,
// in the order the events were written, with nothing of eddy in between.

// Keyed is one expected output record.
type Keyed[V any] struct {
	Key       int64
	Value     V
	Timestamp int64
}

// RefQ0 is every bid, keyed by auction.
func RefQ0(events []Event) []Keyed[Bid] {
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
	out := RefQ0(events)
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

func checkQ0(ctx context.Context, c broker.Client, out string, events []Event) error {
	return checkPerKeyOrder(ctx, c, out, serde.JSON[Bid](), RefQ0(events))
}

func checkQ1(ctx context.Context, c broker.Client, out string, events []Event) error {
	return checkPerKeyOrder(ctx, c, out, serde.JSON[Bid](), RefQ1(events))
}

func checkQ2(ctx context.Context, c broker.Client, out string, events []Event) error {
	return checkPerKeyOrder(ctx, c, out, serde.JSON[AuctionPrice](), RefQ2(events))
}

// checkPerKeyOrder compares a topic with the expected records of a
// per-record query: the same records, and for each key in the same order
// (a key's records share a partition, whose order the app keeps; records
// of different keys may interleave differently).
func checkPerKeyOrder[V comparable](ctx context.Context, c broker.Client, topic string, vs serde.Serde[V], want []Keyed[V]) error {
	got, err := ReadTopic(ctx, c, topic, serde.Int64, vs)
	if err != nil {
		return err
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d records, want %d", topic, len(got), len(want))
	}
	byKey := map[int64][]Keyed[V]{}
	for _, w := range want {
		byKey[w.Key] = append(byKey[w.Key], w)
	}
	seen := map[int64]int{}
	for _, r := range got {
		i := seen[r.Key]
		exp := byKey[r.Key]
		if i >= len(exp) {
			return fmt.Errorf("%s: partition %d offset %d: key %d has more records than the %d expected", topic, r.Partition, r.Offset, r.Key, len(exp))
		}
		if w := exp[i]; r.Value != w.Value || r.Timestamp != w.Timestamp {
			return fmt.Errorf("%s: partition %d offset %d: record %d of key %d is %+v at %d, want %+v at %d",
				topic, r.Partition, r.Offset, i, r.Key, r.Value, r.Timestamp, w.Value, w.Timestamp)
		}
		seen[r.Key] = i + 1
	}
	return nil
}
