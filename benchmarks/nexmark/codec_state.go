package nexmark

import (
	"encoding/binary"

	"github.com/eddy-streams/eddy/serde"
)

// Binary serdes of the windowed queries' intermediate records and window
// stores, which every bid goes through (see codec.go for the encoding).

func auctionCountSerde() serde.Serde[auctionCount] {
	return codec[auctionCount]{name: "auction count", tag: tagAuctionCount,
		enc: func(b []byte, c auctionCount) []byte {
			b = binary.AppendVarint(b, c.Auction)
			b = binary.AppendVarint(b, c.End)
			return binary.AppendVarint(b, c.Bids)
		},
		dec: decodeAuctionCount}
}

func readAuctionCount(r *reader, c *auctionCount) {
	c.Auction, c.End, c.Bids = r.int(), r.int(), r.int()
}

// minBidBytes is the smallest encoding of a bid without its tag: four
// one-byte integers and three empty strings.
const minBidBytes = 7

func highestBidSerde() serde.Serde[HighestBid] {
	return newCodec("highest bid", tagHighestBid,
		func(b []byte, h HighestBid) []byte {
			b = binary.AppendVarint(b, h.Start)
			b = binary.AppendVarint(b, h.End)
			b = binary.AppendVarint(b, h.Price)
			b = binary.AppendUvarint(b, uint64(len(h.Bids)))
			for i := range h.Bids {
				b = appendBid(b, h.Bids[i])
			}
			return b
		},
		decodeHighestBid)
}

func readHighestBid(r *reader, h *HighestBid) {
	h.Start, h.End, h.Price = r.int(), r.int(), r.int()
	if n := r.count(minBidBytes); n > 0 {
		h.Bids = make([]Bid, n)
		for i := range h.Bids {
			readBid(r, &h.Bids[i])
		}
	}
}

func hotItemsSerde() serde.Serde[HotItems] {
	return codec[HotItems]{name: "hot items", tag: tagHotItems,
		enc: func(b []byte, h HotItems) []byte {
			b = binary.AppendVarint(b, h.Start)
			b = binary.AppendVarint(b, h.End)
			b = binary.AppendVarint(b, h.Bids)
			b = binary.AppendUvarint(b, uint64(len(h.Auctions)))
			for _, a := range h.Auctions {
				b = binary.AppendVarint(b, a)
			}
			return b
		},
		dec: decodeHotItems}
}

func readHotItems(r *reader, h *HotItems) {
	h.Start, h.End, h.Bids = r.int(), r.int(), r.int()
	if n := r.count(1); n > 0 {
		h.Auctions = make([]int64, n)
		for i := range h.Auctions {
			h.Auctions[i] = r.int()
		}
	}
}

func decodeHotItems(data []byte, text *textArena) (v HotItems, err error) {
	r := newReader(data, text)
	readHotItems(&r, &v)
	return v, r.finish()
}

func activitySerde() serde.Serde[activity] {
	return newCodec("activity", tagActivity,
		func(b []byte, a activity) []byte {
			b = appendString(b, a.Name)
			b = appendBool(b, a.Joined)
			return appendBool(b, a.Auction)
		},
		decodeActivity)
}

func readActivity(r *reader, a *activity) {
	a.Name, a.Joined, a.Auction = r.string(), r.bool(), r.bool()
}

func decodeAuctionCount(data []byte, text *textArena) (v auctionCount, err error) {
	r := newReader(data, text)
	readAuctionCount(&r, &v)
	return v, r.finish()
}

func decodeHighestBid(data []byte, text *textArena) (v HighestBid, err error) {
	r := newReader(data, text)
	readHighestBid(&r, &v)
	return v, r.finish()
}

func decodeActivity(data []byte, text *textArena) (v activity, err error) {
	r := newReader(data, text)
	readActivity(&r, &v)
	return v, r.finish()
}
