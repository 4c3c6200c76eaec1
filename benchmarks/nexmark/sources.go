package nexmark

import (
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// Sources reads the Nexmark topics into a topology. Each topic gets its
// source node the first time a query asks for it, so a query's app reads
// only the topics it uses.
type Sources struct {
	b        *stream.Builder
	persons  *stream.Stream[int64, Person]
	auctions *stream.Stream[int64, Auction]
	listings *stream.Stream[int64, Listing]
	bids     *stream.Stream[int64, Bid]
	bidRows  *stream.Stream[int64, BidRow]
}

// From returns the Nexmark sources of a topology under construction.
func From(b *stream.Builder) *Sources { return &Sources{b: b} }

// Builder is the topology the sources belong to.
func (s *Sources) Builder() *stream.Builder { return s.b }

// Persons is the stream of persons keyed by id.
func (s *Sources) Persons() stream.Stream[int64, Person] {
	return source(s, &s.persons, PersonTopic, PersonSerde())
}

// Auctions is the stream of auctions keyed by id.
func (s *Sources) Auctions() stream.Stream[int64, Auction] {
	return source(s, &s.auctions, AuctionTopic, AuctionSerde())
}

// Listings is the stream of auctions keyed by id, read without their text
// (see Listing). A topology reads the auction topic either through
// Auctions or through Listings, not both.
func (s *Sources) Listings() stream.Stream[int64, Listing] {
	return source(s, &s.listings, AuctionTopic, ListingSerde())
}

// Bids is the stream of bids keyed by auction id.
func (s *Sources) Bids() stream.Stream[int64, Bid] {
	return source(s, &s.bids, BidTopic, BidSerde())
}

// BidRows is the stream of bids keyed by auction, read without their
// channel and url (see BidRow). A topology reads the bid topic either
// through Bids or through BidRows, not both.
func (s *Sources) BidRows() stream.Stream[int64, BidRow] {
	return source(s, &s.bidRows, BidTopic, BidRowSerde())
}

// source returns the stream *made reads topic into, making it the first
// time.
func source[V any](s *Sources, made **stream.Stream[int64, V], topic string, vs serde.Serde[V]) stream.Stream[int64, V] {
	if *made == nil {
		st := stream.From(s.b, topic, serde.Int64, vs, stream.Named(topic+"-source"))
		*made = &st
	}
	return **made
}
