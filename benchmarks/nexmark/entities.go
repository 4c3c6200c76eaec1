package nexmark

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The constants of the Nexmark generators (Beam's and Flink's).
const (
	firstPersonID   = 1000
	firstAuctionID  = 1000
	firstCategoryID = 10
	numCategories   = 5
	// personIDLead and auctionIDLead: how many not-yet-created persons and
	// auctions a random pick may reach, so that a bid or an auction can
	// come before the person or auction it refers to.
	personIDLead  = 10
	auctionIDLead = 10
	// Hot sellers, bidders and auctions are the first (bidders: second)
	// of each batch of this many latest persons or auctions.
	hotBatch = 100
	// Half of the bids come through one of the hot channels, the others
	// through one of channelCount numbered ones.
	hotChannelsRatio = 2
	channelCount     = 10_000
	minStringLength  = 3
)

var (
	usStates   = [...]string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = [...]string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = [...]string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = [...]string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannel = [...]string{"Google", "Facebook", "Baidu", "Apple"}
)

// lastPerson returns the base-0 id of the latest person as of event id:
// the person the event creates if it is one.
func (c *config) lastPerson(id int64) int64 {
	epoch, offset := id/c.total(), id%c.total()
	if offset >= c.personProp {
		offset = c.personProp - 1
	}
	return epoch*c.personProp + offset
}

// lastAuction returns the base-0 id of the latest auction as of event id:
// the auction the event creates if it is one. Before the first auction it
// is -1.
func (c *config) lastAuction(id int64) int64 {
	epoch, offset := id/c.total(), id%c.total()
	switch {
	case offset < c.personProp: // a person: the previous epoch's last auction
		epoch--
		offset = c.auctionProp - 1
	case offset >= c.personProp+c.auctionProp: // a bid: this epoch's last auction
		offset = c.auctionProp - 1
	default:
		offset -= c.personProp
	}
	return epoch*c.auctionProp + offset
}

// randomPerson picks one of the active persons, or one of the next few not
// created yet (base 0).
func (c *config) randomPerson(id int64, rng *rand.Rand) int64 {
	people := c.lastPerson(id) + 1
	active := min(people, c.activePeople)
	return people - active + rng.Int64N(active+personIDLead)
}

// randomAuction picks one of the auctions likely to be still open, or one
// of the next few not created yet (base 0).
func (c *config) randomAuction(id int64, rng *rand.Rand) int64 {
	last := c.lastAuction(id)
	lo := max(last-c.inFlightAuctions, 0)
	return lo + rng.Int64N(last-lo+1+auctionIDLead)
}

func (g *Generator) person(id, ts int64, rng *rand.Rand) *Person {
	p := &Person{
		ID:           g.cfg.lastPerson(id) + firstPersonID,
		Name:         firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))],
		EmailAddress: randomString(rng, 7, ' ') + "@" + randomString(rng, 5, ' ') + ".com",
		CreditCard:   creditCard(rng),
		City:         usCities[rng.IntN(len(usCities))],
		State:        usStates[rng.IntN(len(usStates))],
		DateTime:     ts,
	}
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = extra(rng, size, g.cfg.avgPersonBytes)
	return p
}

func (g *Generator) auction(id, ts int64, rng *rand.Rand) *Auction {
	c := &g.cfg
	a := &Auction{ID: c.lastAuction(id) + firstAuctionID, DateTime: ts}
	if rng.IntN(c.hotSellersRatio) > 0 {
		a.Seller = c.lastPerson(id) / hotBatch * hotBatch
	} else {
		a.Seller = c.randomPerson(id, rng)
	}
	a.Seller += firstPersonID
	a.Category = firstCategoryID + int64(rng.IntN(numCategories))
	a.InitialBid = price(rng)
	a.Expires = ts + g.auctionLength(id, ts, rng)
	a.ItemName = randomString(rng, 20, ' ')
	a.Description = randomString(rng, 100, ' ')
	a.Reserve = a.InitialBid + price(rng)
	a.Extra = extra(rng, 8+len(a.ItemName)+len(a.Description)+5*8, c.avgAuctionBytes)
	return a
}

// auctionLength draws an auction's length in ms: uniform in [1, 2h], where
// h is the event time until numInFlightAuctions more auctions will have
// been created, so that about that many are open at any time.
func (g *Generator) auctionLength(id, ts int64, rng *rand.Rand) int64 {
	ahead := g.cfg.inFlightAuctions * g.cfg.total() / g.cfg.auctionProp
	horizon := g.timestampOf(id+ahead) - ts
	return 1 + rng.Int64N(max(horizon*2, 1))
}

func (g *Generator) bid(id, ts int64, rng *rand.Rand) *Bid {
	c := &g.cfg
	b := &Bid{DateTime: ts}
	if rng.IntN(c.hotAuctionRatio) > 0 {
		b.Auction = c.lastAuction(id) / hotBatch * hotBatch
	} else {
		b.Auction = c.randomAuction(id, rng)
	}
	b.Auction += firstAuctionID
	if rng.IntN(c.hotBiddersRatio) > 0 {
		// The second person of the batch, so that hot bidders are not the
		// hot sellers.
		b.Bidder = c.lastPerson(id)/hotBatch*hotBatch + 1
	} else {
		b.Bidder = c.randomPerson(id, rng)
	}
	// The Flink generator adds firstPersonID twice here; Beam and eddy
	// once, so bidders are persons.
	b.Bidder += firstPersonID
	b.Price = price(rng)
	if rng.IntN(hotChannelsRatio) > 0 {
		i := rng.IntN(len(hotChannel))
		b.Channel, b.URL = hotChannel[i], g.hotURLs[i]
	} else {
		b.Channel, b.URL = g.channel(rng.IntN(channelCount))
	}
	b.Extra = extra(rng, 4*8, c.avgBidBytes)
	return b
}

// channel returns numbered channel n and its URL, which depends on the seed
// and n only, nine in ten of them carrying a channel_id parameter.
func (g *Generator) channel(n int) (string, string) {
	if g.channels == nil {
		g.channels = make([]string, channelCount)
	}
	url := g.channels[n]
	if url == "" {
		rng := rand.New(rand.NewPCG(g.cfg.seed, mix(uint64(n)^channelSalt)))
		url = baseURL(rng)
		if rng.IntN(10) > 0 {
			rev := int64(int32(bits.Reverse32(uint32(n))))
			url += "&channel_id=" + strconv.FormatInt(max(rev, -rev), 10)
		}
		g.channels[n] = url
	}
	return "channel-" + strconv.Itoa(n), url
}

func baseURL(rng *rand.Rand) string {
	return "https://www.nexmark.com/" + randomString(rng, 5, '_') + "/" + randomString(rng, 5, '_') + "/" +
		randomString(rng, 5, '_') + "/item.htm?query=1"
}

// price draws a price in cents, log-uniform from $1 to $1,000,000.
func price(rng *rand.Rand) int64 {
	return int64(math.Round(math.Pow(10, rng.Float64()*6) * 100))
}

func creditCard(rng *rand.Rand) string {
	return fmt.Sprintf("%04d %04d %04d %04d", rng.IntN(10000), rng.IntN(10000), rng.IntN(10000), rng.IntN(10000))
}

// randomString returns between 3 and maxLen-1 random lower-case letters,
// about one in 13 replaced by special, with spaces trimmed at both ends.
func randomString(rng *rand.Rand, maxLen int, special byte) string {
	n := minStringLength + rng.IntN(maxLen-minStringLength)
	b := make([]byte, n)
	for i := range b {
		if rng.IntN(13) == 0 {
			b[i] = special
		} else {
			b[i] = 'a' + byte(rng.IntN(26))
		}
	}
	return strings.Trim(string(b), " ")
}

// extra pads an event of size bytes to avg bytes on average: a string of
// random letters of avg-size ±20%, empty if the event is already larger.
func extra(rng *rand.Rand, size, avg int) string {
	if size > avg {
		return ""
	}
	want := avg - size
	delta := int(math.Round(float64(want) * 0.2))
	n := want - delta
	if delta > 0 {
		n += rng.IntN(2 * delta)
	}
	b := make([]byte, n)
	// 13 letters per 64 random bits (26^13 < 2^64).
	for i := 0; i < n; {
		r := rng.Uint64()
		for j := 0; j < 13 && i < n; j++ {
			b[i] = 'a' + byte(r%26)
			r /= 26
			i++
		}
	}
	return string(b)
}
