package nexmark_test

import (
	"fmt"

	"github.com/eddy-streams/eddy/benchmarks/nexmark"
)

// The first events: a person, three auctions, then bids — some on auctions
// not created yet, as the generator allows.
func ExampleNew() {
	g, err := nexmark.New(nexmark.Seed(1), nexmark.Events(6), nexmark.EventRate(10))
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev := range g.All() {
		switch ev.Kind() {
		case nexmark.KindPerson:
			fmt.Println(ev.Time().Format("15:04:05.000"), "person", ev.Person.ID)
		case nexmark.KindAuction:
			fmt.Println(ev.Time().Format("15:04:05.000"), "auction", ev.Auction.ID, "by", ev.Auction.Seller, "in category", ev.Auction.Category)
		case nexmark.KindBid:
			fmt.Println(ev.Time().Format("15:04:05.000"), "bid on", ev.Bid.Auction, "by", ev.Bid.Bidder)
		}
	}
	// Output:
	// 00:00:00.000 person 1000
	// 00:00:00.100 auction 1000 by 1000 in category 11
	// 00:00:00.200 auction 1001 by 1000 in category 11
	// 00:00:00.300 auction 1002 by 1000 in category 10
	// 00:00:00.400 bid on 1011 by 1001
	// 00:00:00.500 bid on 1007 by 1001
}
