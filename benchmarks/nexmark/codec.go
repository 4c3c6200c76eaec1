package nexmark

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/eddy-streams/eddy/serde"
)

// The Nexmark topics, and the state and repartition topics of the queries'
// hot paths, hold values in a compact binary encoding rather than JSON:
// encoding/json took about three quarters of q0's time. Each encoding is a
// tag byte naming the type (so a bid read as a person fails instead of
// decoding to garbage), then the fields in declaration order: integers as
// zig-zag varints, strings as a uvarint length and their bytes, booleans as
// one byte 0 or 1, slices as a uvarint count and their elements without
// tags.

// Tags of the encoded types.
const (
	tagPerson       = 0xA1
	tagAuction      = 0xA2
	tagBid          = 0xA3
	tagAuctionCount = 0xB1
	tagHighestBid   = 0xB2
	tagActivity     = 0xB3
	tagHotItems     = 0xB4
	tagNewUser      = 0xC1
)

// codec is the binary serde of one type. It implements serde.Appender.
type codec[T any] struct {
	name string
	tag  byte
	// enc and dec take and return values, not pointers: through a func
	// value a pointer escapes, which would cost an allocation per record.
	// dec gets the whole encoding, tag included.
	enc func(dst []byte, v T) []byte
	dec func(data []byte, text *textArena) (T, error)
	// arenas holds the textArenas decoders copy strings into (see
	// textArena); nil makes every decode allocate its own.
	arenas *sync.Pool
}

// newCodec returns the codec of a type with string fields, decoding them
// into pooled text arenas.
func newCodec[T any](name string, tag byte, enc func([]byte, T) []byte, dec func([]byte, *textArena) (T, error)) codec[T] {
	return codec[T]{name: name, tag: tag, enc: enc, dec: dec,
		arenas: &sync.Pool{New: func() any { return new(textArena) }}}
}

func (c codec[T]) Serialize(topic string, v T) ([]byte, error) {
	return c.AppendSerialize(make([]byte, 0, 128), topic, v)
}

func (c codec[T]) AppendSerialize(dst []byte, _ string, v T) ([]byte, error) {
	return c.enc(append(dst, c.tag), v), nil
}

func (c codec[T]) Deserialize(topic string, data []byte) (T, error) {
	var v T
	if len(data) == 0 || data[0] != c.tag {
		return v, fmt.Errorf("%w: topic %q: %s: %s", serde.ErrDeserialize, topic, c.name, describeTag(data, c.tag))
	}
	var text *textArena
	if c.arenas != nil {
		text = c.arenas.Get().(*textArena)
		defer c.arenas.Put(text)
	}
	v, err := c.dec(data, text)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%w: topic %q: %s in %d bytes: %w", serde.ErrDeserialize, topic, c.name, len(data), err)
	}
	return v, nil
}

// finish reports the first decoding error, or trailing bytes. Each type
// has its decode function calling its read function statically, so that
// the reader and the value stay on the stack (through a func value they
// would escape: an allocation per record).
func (r *reader) finish() error {
	if r.err == nil && r.pos != len(r.data) {
		r.err = fmt.Errorf("%d bytes left after the value", len(r.data)-r.pos)
	}
	return r.err
}

// newReader reads the fields of data after its tag, copying its strings
// into text (nil: into an allocation of their own).
func newReader(data []byte, text *textArena) reader {
	return reader{data: data, pos: 1, arena: text}
}

func describeTag(data []byte, want byte) string {
	if len(data) == 0 {
		return "empty value"
	}
	return fmt.Sprintf("type tag %#x, want %#x", data[0], want)
}

// PersonSerde is the binary serde of the person topic.
func PersonSerde() serde.Serde[Person] {
	return newCodec("person", tagPerson, appendPerson, decodePerson)
}

// AuctionSerde is the binary serde of the auction topic.
func AuctionSerde() serde.Serde[Auction] {
	return newCodec("auction", tagAuction, appendAuction, decodeAuction)
}

// BidSerde is the binary serde of the bid topic (and of q0's and q1's
// output).
func BidSerde() serde.Serde[Bid] {
	return newCodec("bid", tagBid, appendBid, decodeBid)
}

// NewUserSerde is the binary serde of q8's output, which writes a record
// for one window in ten of those it aggregates: as JSON, its encoding took
// 5% of q8's time.
func NewUserSerde() serde.Serde[NewUser] {
	return newCodec("new user", tagNewUser,
		func(b []byte, u NewUser) []byte {
			b = binary.AppendVarint(b, u.ID)
			b = appendString(b, u.Name)
			b = binary.AppendVarint(b, u.Start)
			return binary.AppendVarint(b, u.End)
		},
		func(data []byte, text *textArena) (u NewUser, err error) {
			r := newReader(data, text)
			u.ID, u.Name, u.Start, u.End = r.int(), r.string(), r.int(), r.int()
			return u, r.finish()
		})
}

func appendPerson(b []byte, p Person) []byte {
	b = binary.AppendVarint(b, p.ID)
	b = appendString(b, p.Name)
	b = appendString(b, p.EmailAddress)
	b = appendString(b, p.CreditCard)
	b = appendString(b, p.City)
	b = appendString(b, p.State)
	b = binary.AppendVarint(b, p.DateTime)
	return appendString(b, p.Extra)
}

func readPerson(r *reader, p *Person) {
	p.ID = r.int()
	p.Name = r.string()
	p.EmailAddress = r.string()
	p.CreditCard = r.string()
	p.City = r.string()
	p.State = r.string()
	p.DateTime = r.int()
	p.Extra = r.string()
}

func appendAuction(b []byte, a Auction) []byte {
	b = binary.AppendVarint(b, a.ID)
	b = appendString(b, a.ItemName)
	b = appendString(b, a.Description)
	b = binary.AppendVarint(b, a.InitialBid)
	b = binary.AppendVarint(b, a.Reserve)
	b = binary.AppendVarint(b, a.DateTime)
	b = binary.AppendVarint(b, a.Expires)
	b = binary.AppendVarint(b, a.Seller)
	b = binary.AppendVarint(b, a.Category)
	return appendString(b, a.Extra)
}

func readAuction(r *reader, a *Auction) {
	a.ID = r.int()
	a.ItemName = r.string()
	a.Description = r.string()
	a.InitialBid = r.int()
	a.Reserve = r.int()
	a.DateTime = r.int()
	a.Expires = r.int()
	a.Seller = r.int()
	a.Category = r.int()
	a.Extra = r.string()
}

// ListingSerde reads the auction topic's values as Listings: the strings
// are skipped, not copied. It writes a Listing as an auction with no text,
// so what it writes reads back as an Auction too.
func ListingSerde() serde.Serde[Listing] {
	return newCodec("auction", tagAuction,
		func(b []byte, l Listing) []byte {
			return appendAuction(b, Auction{ID: l.ID, InitialBid: l.InitialBid, Reserve: l.Reserve,
				DateTime: l.DateTime, Expires: l.Expires, Seller: l.Seller, Category: l.Category})
		},
		func(data []byte, _ *textArena) (l Listing, err error) {
			r := newReader(data, nil)
			l.ID = r.int()
			r.skipString() // item name
			r.skipString() // description
			l.InitialBid, l.Reserve, l.DateTime, l.Expires = r.int(), r.int(), r.int(), r.int()
			l.Seller, l.Category = r.int(), r.int()
			r.skipString() // extra
			return l, r.finish()
		})
}

// BidRowSerde reads the bid topic's values as BidRows: the channel and url
// are skipped, and only the extra text is copied. It writes a BidRow as a
// bid with no channel and url, so what it writes reads back as a Bid too.
func BidRowSerde() serde.Serde[BidRow] {
	return newCodec("bid", tagBid,
		func(b []byte, v BidRow) []byte {
			return appendBid(b, Bid{Auction: v.Auction, Bidder: v.Bidder, Price: v.Price, DateTime: v.DateTime, Extra: v.Extra})
		},
		func(data []byte, text *textArena) (v BidRow, err error) {
			r := newReader(data, text)
			v.Auction, v.Bidder, v.Price = r.int(), r.int(), r.int()
			r.skipString() // channel
			r.skipString() // url
			v.DateTime = r.int()
			v.Extra = r.ownString()
			return v, r.finish()
		})
}

func appendBid(b []byte, v Bid) []byte {
	b = binary.AppendVarint(b, v.Auction)
	b = binary.AppendVarint(b, v.Bidder)
	b = binary.AppendVarint(b, v.Price)
	b = appendString(b, v.Channel)
	b = appendString(b, v.URL)
	b = binary.AppendVarint(b, v.DateTime)
	return appendString(b, v.Extra)
}

func readBid(r *reader, v *Bid) {
	v.Auction = r.int()
	v.Bidder = r.int()
	v.Price = r.int()
	v.Channel = r.string()
	v.URL = r.string()
	v.DateTime = r.int()
	v.Extra = r.string()
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// reader decodes fields from data, remembering the first error so that a
// decode function reads field after field and is checked once at the end.
type reader struct {
	data []byte
	pos  int
	err  error
	// text is data as one string, made at the first string field: every
	// string of the value is a substring of it, one copy in all.
	text  string
	arena *textArena
}

var errTruncated = errors.New("value ends inside a field")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.pos = len(r.data)
}

func (r *reader) int() int64 {
	v, n := binary.Varint(r.data[r.pos:])
	if n <= 0 {
		r.fail(fmt.Errorf("integer at byte %d: %w", r.pos, errTruncated))
		return 0
	}
	r.pos += n
	return v
}

// count reads a length or element count and checks that at least min bytes
// per unit remain, so a corrupt count cannot make the decoder allocate
// more than the value's size.
func (r *reader) count(min int) int {
	at := r.pos
	v, n := binary.Uvarint(r.data[r.pos:])
	if n <= 0 {
		r.fail(fmt.Errorf("length at byte %d: %w", at, errTruncated))
		return 0
	}
	r.pos += n
	if left := uint64(len(r.data) - r.pos); v > left || v*uint64(min) > left {
		r.fail(fmt.Errorf("length %d at byte %d exceeds the %d bytes left", v, at, left))
		return 0
	}
	return int(v)
}

func (r *reader) string() string {
	n := r.count(1)
	if n == 0 {
		return ""
	}
	if r.text == "" {
		r.text = r.arena.copy(r.data)
	}
	s := r.text[r.pos : r.pos+n]
	r.pos += n
	return s
}

// ownString reads a string field as a copy of its bytes alone, where
// string copies the whole value once for all its strings: for a value
// read for one string among skipped ones.
func (r *reader) ownString() string {
	n := r.count(1)
	s := r.arena.copy(r.data[r.pos : r.pos+n])
	r.pos += n
	return s
}

// skipString passes over a string field without copying it.
func (r *reader) skipString() {
	r.pos += r.count(1)
}

func (r *reader) bool() bool {
	if r.pos >= len(r.data) {
		r.fail(fmt.Errorf("boolean at byte %d: %w", r.pos, errTruncated))
		return false
	}
	b := r.data[r.pos]
	r.pos++
	switch b {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail(fmt.Errorf("boolean at byte %d is %d, not 0 or 1", r.pos-1, b))
	return false
}

func decodePerson(data []byte, text *textArena) (v Person, err error) {
	r := newReader(data, text)
	readPerson(&r, &v)
	return v, r.finish()
}

func decodeAuction(data []byte, text *textArena) (v Auction, err error) {
	r := newReader(data, text)
	readAuction(&r, &v)
	return v, r.finish()
}

func decodeBid(data []byte, text *textArena) (v Bid, err error) {
	r := newReader(data, text)
	readBid(&r, &v)
	return v, r.finish()
}

// textArena copies the strings of decoded values into shared chunks.
//
// Each decoded value's strings are one copy of its encoding (see
// reader.text). Made by string(data), that copy is an allocation of a few
// hundred bytes per record (an auction's is about 500), and in q8 those
// allocations took about a tenth of the reading phase: objects that size
// fill a span after a few allocations, and most of the cost is refilling
// spans. An arena copies into 64 KiB chunks instead, one allocation per
// hundred records or so.
//
// The strings share their chunk's memory, read-only: bytes once handed out
// are never written again, since copy only appends and starts a new chunk
// when the current one is full. The price is retention: a chunk is freed
// only once no string in it is referenced, so a value kept for long keeps
// up to a chunk alive. The values decoded here are transient (stores keep
// encodings, not values), which makes that a good trade; a serde whose
// values are kept in memory should copy per value. An arena is not safe
// for concurrent use: a codec hands one to one decode at a time, from a
// pool.
type textArena struct {
	// chunk is a strings.Builder for the memory it grows into: Grow does
	// not zero it, where make would write every byte twice (zeroes, then
	// the copies); and what String has returned is never written again,
	// since copy only appends within the capacity.
	chunk strings.Builder
}

// arenaChunk is the size of an arena's chunks. An encoding longer than an
// eighth of it gets an allocation of its own, so a chunk is replaced at
// most an eighth unused.
const arenaChunk = 64 << 10

// copy returns b as a string that shares no memory with b. A nil arena
// allocates.
func (a *textArena) copy(b []byte) string {
	if a == nil || len(b) == 0 || len(b) > arenaChunk/8 {
		return string(b)
	}
	if a.chunk.Cap()-a.chunk.Len() < len(b) {
		a.chunk = strings.Builder{}
		a.chunk.Grow(arenaChunk)
	}
	start := a.chunk.Len()
	a.chunk.Write(b)
	return a.chunk.String()[start:]
}
