package nexmark

import (
	"errors"
	"fmt"
	"time"
)

// Option configures a Generator.
type Option func(*config)

// config is the generator's configuration; the defaults are the Nexmark
// defaults of the Beam and Flink generators, except where noted.
type config struct {
	seed      uint64
	events    int64
	rate      float64 // events per second of event time
	baseTime  int64   // Unix ms of event number 0
	groupSize int64   // out-of-order group size
	delayProb float64 // probability that an event is delayed
	maxDelay  int64   // ms, the longest delay

	personProp, auctionProp, bidProp int64
	hotAuctionRatio                  int
	hotSellersRatio                  int
	hotBiddersRatio                  int
	activePeople                     int64
	inFlightAuctions                 int64
	avgPersonBytes                   int
	avgAuctionBytes                  int
	avgBidBytes                      int
}

// defaultBaseTime is the event time of the first event unless BaseTime
// says otherwise: 2024-01-01T00:00:00Z in Unix milliseconds. It is fixed,
// unlike the reference generators' "now", so that a seed always gives the
// same events.
const defaultBaseTime = 1_704_067_200_000

func defaults() config {
	return config{
		events: 100_000, rate: 10_000, baseTime: defaultBaseTime, groupSize: 1,
		personProp: 1, auctionProp: 3, bidProp: 46,
		hotAuctionRatio: 2, hotSellersRatio: 4, hotBiddersRatio: 4,
		activePeople: 1000, inFlightAuctions: 100,
		avgPersonBytes: 200, avgAuctionBytes: 500, avgBidBytes: 100,
	}
}

// ErrConfig reports an unusable generator option.
var ErrConfig = errors.New("nexmark: invalid generator option")

func (c *config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.events < 0:
		return bad("%d events", c.events)
	case !(c.rate > 0):
		return bad("event rate %v per second, want > 0", c.rate)
	case c.groupSize < 1 || c.groupSize%953 == 0:
		// 953 is the stride that permutes each group; a multiple of it would
		// map every event of a group to the same number.
		return bad("out-of-order group size %d, want >= 1 and not a multiple of 953", c.groupSize)
	case c.delayProb < 0 || c.delayProb > 1:
		return bad("delayed-event probability %v, want 0..1", c.delayProb)
	case c.delayProb > 0 && c.maxDelay < 1:
		return bad("delayed events need a maximum delay of at least 1ms")
	case c.personProp < 1 || c.auctionProp < 1 || c.bidProp < 1:
		return bad("proportions %d:%d:%d, want each >= 1", c.personProp, c.auctionProp, c.bidProp)
	case c.hotAuctionRatio < 1 || c.hotSellersRatio < 1 || c.hotBiddersRatio < 1:
		return bad("hot ratios %d, %d, %d, want each >= 1", c.hotAuctionRatio, c.hotSellersRatio, c.hotBiddersRatio)
	case c.activePeople < 1 || c.inFlightAuctions < 1:
		return bad("%d active people and %d auctions in flight, want each >= 1", c.activePeople, c.inFlightAuctions)
	case c.avgPersonBytes < 0 || c.avgAuctionBytes < 0 || c.avgBidBytes < 0:
		return bad("negative average event size")
	}
	return nil
}

func (c *config) total() int64 { return c.personProp + c.auctionProp + c.bidProp }

// Seed chooses the event stream: the same seed and options give the same
// events, in the same order, every time (default 0).
func Seed(s uint64) Option { return func(c *config) { c.seed = s } }

// Events is how many events to generate (default 100,000); 0 means no end.
func Events(n int64) Option { return func(c *config) { c.events = n } }

// EventRate is how many events happen per second of event time (default
// 10,000, Nexmark's firstEventRate): event n happens n/rate seconds after
// the base time. It does not pace the generator, which runs as fast as it
// is asked for events.
func EventRate(perSecond float64) Option { return func(c *config) { c.rate = perSecond } }

// BaseTime is the event time of the first event (default 2024-01-01 UTC).
func BaseTime(t time.Time) Option { return func(c *config) { c.baseTime = t.UnixMilli() } }

// OutOfOrderGroup shuffles events within consecutive groups of n (Nexmark's
// outOfOrderGroupSize, default 1: none): the event at position p gets the id
// and the timestamp of event p - p%n + (p*953)%n, so timestamps within a
// group arrive out of order while ids stay unique.
func OutOfOrderGroup(n int64) Option { return func(c *config) { c.groupSize = n } }

// DelayedEvents holds back a fraction prob of the events (Nexmark's
// probDelayedEvent and occasionalDelaySec, off by default): each such event
// is emitted as if it happened up to max later — after the events of the
// next max of event time — while keeping its own timestamp. Whether and by
// how much an event is delayed depends on the seed only.
func DelayedEvents(prob float64, max time.Duration) Option {
	return func(c *config) { c.delayProb, c.maxDelay = prob, max.Milliseconds() }
}

// Proportions sets how many persons, auctions and bids each cycle of events
// holds, in that order (default 1:3:46 per 50 events).
func Proportions(persons, auctions, bids int64) Option {
	return func(c *config) { c.personProp, c.auctionProp, c.bidProp = persons, auctions, bids }
}

// HotRatios sets Nexmark's hotAuctionRatio, hotSellersRatio and
// hotBiddersRatio (default 2, 4, 4): a bid is on a hot auction with
// probability 1 - 1/auction, an auction is by a hot seller with
// probability 1 - 1/sellers, and a bid by a hot bidder with probability
// 1 - 1/bidders.
func HotRatios(auction, sellers, bidders int) Option {
	return func(c *config) { c.hotAuctionRatio, c.hotSellersRatio, c.hotBiddersRatio = auction, sellers, bidders }
}

// ActivePeople is how many of the latest persons non-hot sellers and bidders
// are drawn from (default 1,000, numActivePeople).
func ActivePeople(n int64) Option { return func(c *config) { c.activePeople = n } }

// InFlightAuctions is how many of the latest auctions non-hot bids are
// drawn from, and sets auction lengths (default 100, numInFlightAuctions).
func InFlightAuctions(n int64) Option { return func(c *config) { c.inFlightAuctions = n } }

// AverageSizes sets the average size in bytes each kind of event is padded
// to with its Extra field (default 200, 500, 100).
func AverageSizes(person, auction, bid int) Option {
	return func(c *config) { c.avgPersonBytes, c.avgAuctionBytes, c.avgBidBytes = person, auction, bid }
}
