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
	onRecord func(Kind, int64)
	persons  *stream.Stream[int64, Person]
	auctions *stream.Stream[int64, Auction]
	bids     *stream.Stream[int64, Bid]
}

// SourceOption configures Sources.
type SourceOption func(*Sources)

// OnRecord calls f with the kind and key of every record a source reads, before the
// query sees it; benchmarks count their input with it. f runs on the app's
// processing goroutines.
func OnRecord(f func(kind Kind, key int64)) SourceOption { return func(s *Sources) { s.onRecord = f } }

// From returns the Nexmark sources of a topology under construction.
func From(b *stream.Builder, opts ...SourceOption) *Sources {
	s := &Sources{b: b}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Builder is the topology the sources belong to.
func (s *Sources) Builder() *stream.Builder { return s.b }

// Persons is the stream of persons keyed by id.
func (s *Sources) Persons() stream.Stream[int64, Person] {
	if s.persons == nil {
		st := source(s, PersonTopic, KindPerson, PersonSerde())
		s.persons = &st
	}
	return *s.persons
}

// Auctions is the stream of auctions keyed by id.
func (s *Sources) Auctions() stream.Stream[int64, Auction] {
	if s.auctions == nil {
		st := source(s, AuctionTopic, KindAuction, AuctionSerde())
		s.auctions = &st
	}
	return *s.auctions
}

// Bids is the stream of bids keyed by auction id.
func (s *Sources) Bids() stream.Stream[int64, Bid] {
	if s.bids == nil {
		st := source(s, BidTopic, KindBid, BidSerde())
		s.bids = &st
	}
	return *s.bids
}

func source[V any](s *Sources, topic string, kind Kind, vs serde.Serde[V]) stream.Stream[int64, V] {
	st := stream.From(s.b, topic, serde.Int64, vs, stream.Named(topic+"-source"))
	if f := s.onRecord; f != nil {
		st = st.Peek(func(key int64, _ V) { f(kind, key) }, stream.Named(topic+"-count"))
	}
	return st
}
