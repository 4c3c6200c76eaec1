package nexmark

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/eddy-streams/eddy/serde"
)

// roundTrip encodes v with s both ways (Serialize and AppendSerialize after
// a prefix), checks they agree, decodes, and checks the value comes back;
// then checks that every truncation of the encoding fails cleanly.
func roundTrip[T any](t *testing.T, s serde.Serde[T], v T) {
	t.Helper()
	data, err := s.Serialize("t", v)
	if err != nil {
		t.Fatal(err)
	}
	appended, err := s.(serde.Appender[T]).AppendSerialize([]byte("xyz"), "t", v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(appended[3:], data) || string(appended[:3]) != "xyz" {
		t.Fatalf("AppendSerialize gave %x after the prefix, Serialize %x", appended[3:], data)
	}
	got, err := s.Deserialize("t", data)
	if err != nil {
		t.Fatalf("decode %+v: %v", v, err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("round trip gave %+v, want %+v", got, v)
	}
	for n := range len(data) {
		if _, err := s.Deserialize("t", data[:n]); !errors.Is(err, serde.ErrDeserialize) {
			t.Fatalf("decode of the first %d of %d bytes: err %v, want ErrDeserialize", n, len(data), err)
		}
	}
	if _, err := s.Deserialize("t", append(bytes.Clone(data), 0)); !errors.Is(err, serde.ErrDeserialize) {
		t.Fatalf("decode with a trailing byte: err %v, want ErrDeserialize", err)
	}
}

// readsAs checks that what w writes of v, r reads as want, and that r
// refuses every truncation of it.
func readsAs[W, R any](t *testing.T, w serde.Serde[W], r serde.Serde[R], v W, want R) {
	t.Helper()
	data, err := w.Serialize("t", v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Deserialize("t", data)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v as %+v (%v), want %+v", v, got, err, want)
	}
	for n := range len(data) {
		if _, err := r.Deserialize("t", data[:n]); !errors.Is(err, serde.ErrDeserialize) {
			t.Fatalf("read of the first %d of %d bytes: err %v, want ErrDeserialize", n, len(data), err)
		}
	}
}

func TestCodecsRoundTripGeneratedEvents(t *testing.T) {
	g, err := New(Seed(9), Events(5_000))
	if err != nil {
		t.Fatal(err)
	}
	var bids []Bid
	for ev := range g.All() {
		switch {
		case ev.Person != nil:
			roundTrip(t, PersonSerde(), *ev.Person)
			roundTrip(t, activitySerde(), activity{Name: ev.Person.Name, Joined: true})
		case ev.Auction != nil:
			roundTrip(t, AuctionSerde(), *ev.Auction)
			roundTrip(t, ListingSerde(), ev.Auction.Listing())
			readsAs(t, AuctionSerde(), ListingSerde(), *ev.Auction, ev.Auction.Listing())
		default:
			roundTrip(t, BidSerde(), *ev.Bid)
			b, row := *ev.Bid, ev.Bid.Row()
			roundTrip(t, BidRowSerde(), row)
			readsAs(t, BidSerde(), BidRowSerde(), b, row)
			readsAs(t, BidRowSerde(), BidSerde(), row, Bid{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra})
			bids = append(bids, *ev.Bid)
		}
	}
	roundTrip(t, highestBidSerde(), HighestBid{Start: 10_000, End: 20_000, Price: 77, Bids: bids[:3]})
	roundTrip(t, highestBidSerde(), HighestBid{})
	roundTrip(t, auctionCountSerde(), auctionCount{Auction: 1001, End: 1_700_000_000_000, Bids: 46})
	roundTrip(t, activitySerde(), activity{Auction: true})
	roundTrip(t, hotItemsSerde(), HotItems{Start: 2000, End: 12000, Bids: 9, Auctions: []int64{1001, 1003, math.MaxInt64}})
	roundTrip(t, hotItemsSerde(), HotItems{})
	roundTrip(t, NewUserSerde(), NewUser{ID: 1001, Name: "Peter Shultz", Start: 1_700_000_000_000, End: 1_700_000_010_000})
	roundTrip(t, NewUserSerde(), NewUser{ID: math.MinInt64})
}

func TestCodecsExtremeValues(t *testing.T) {
	roundTrip(t, BidSerde(), Bid{Auction: math.MinInt64, Bidder: math.MaxInt64, Price: -1, Channel: "", URL: "\x00\xff", DateTime: 0, Extra: string(make([]byte, 300))})
	roundTrip(t, PersonSerde(), Person{ID: math.MaxInt64, Name: "é", State: "OR"})
	roundTrip(t, AuctionSerde(), Auction{ID: -5, Reserve: math.MinInt64, Extra: "x"})
}

func TestCodecsRejectForeignData(t *testing.T) {
	bid, _ := BidSerde().Serialize("t", Bid{Auction: 1, Price: 2})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty value"},
		{"bid read as a person", bid, "type tag 0xa3, want 0xa1"},
		{"json", []byte(`{"id":1}`), "type tag 0x7b, want 0xa1"},
		{"huge string length", []byte{tagPerson, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}, "exceeds the 0 bytes left"},
	} {
		_, err := PersonSerde().Deserialize("nexmark-person", tc.data)
		if !errors.Is(err, serde.ErrDeserialize) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Errorf("%s: err %v, want ErrDeserialize saying %q", tc.name, err, tc.want)
		}
	}
	// A count of bids larger than the bytes left could hold is refused
	// before anything is allocated for it.
	_, err := highestBidSerde().Deserialize("t", []byte{tagHighestBid, 0, 0, 0, 0xff, 0xff, 0x03, 1, 2, 3})
	if !errors.Is(err, serde.ErrDeserialize) {
		t.Fatalf("huge bid count: err %v", err)
	}
	_, err = activitySerde().Deserialize("t", []byte{tagActivity, 0, 2, 0})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("not 0 or 1")) {
		t.Fatalf("bad boolean: err %v", err)
	}
}

// FuzzCodecs feeds arbitrary bytes to every decoder: each either fails
// with ErrDeserialize or returns a value that encodes back to the same
// bytes (the encoding is canonical apart from varints, which the fuzzer
// may write non-minimally, so those are re-encoded and compared again).
func FuzzCodecs(f *testing.F) {
	g, _ := New(Seed(3), Events(100))
	for ev := range g.All() {
		var data []byte
		switch {
		case ev.Person != nil:
			data, _ = PersonSerde().Serialize("", *ev.Person)
		case ev.Auction != nil:
			data, _ = AuctionSerde().Serialize("", *ev.Auction)
		default:
			data, _ = BidSerde().Serialize("", *ev.Bid)
		}
		f.Add(data)
	}
	hb, _ := highestBidSerde().Serialize("", HighestBid{Price: 5, Bids: []Bid{{Auction: 1, Channel: "c"}}})
	f.Add(hb)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOne(t, PersonSerde(), data)
		fuzzOne(t, AuctionSerde(), data)
		fuzzOne(t, ListingSerde(), data)
		fuzzOne(t, BidSerde(), data)
		fuzzOne(t, BidRowSerde(), data)
		fuzzOne(t, auctionCountSerde(), data)
		fuzzOne(t, highestBidSerde(), data)
		fuzzOne(t, activitySerde(), data)
		fuzzOne(t, NewUserSerde(), data)
		fuzzOne(t, hotItemsSerde(), data)
	})
}

func fuzzOne[T any](t *testing.T, s serde.Serde[T], data []byte) {
	v, err := s.Deserialize("t", data)
	if err != nil {
		if !errors.Is(err, serde.ErrDeserialize) {
			t.Fatalf("error %v does not wrap ErrDeserialize", err)
		}
		return
	}
	again, err := s.Serialize("t", v)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := s.Deserialize("t", again)
	if err != nil || !reflect.DeepEqual(v, v2) {
		t.Fatalf("re-encoded %+v does not decode to itself: %+v, %v", v, v2, err)
	}
}

// TestTextArena: an arena's strings equal what they copied, share no
// memory with it, and stay intact while later copies fill and replace
// chunks; encodings too long for a chunk are copied on their own.
func TestTextArena(t *testing.T) {
	var a textArena
	src := make([]byte, 1000)
	var got []string
	var want []string
	for i := range 300 { // about 300 KB: several chunks
		n := 1 + i*7%len(src)
		for j := range src[:n] {
			src[j] = byte('a' + (i+j)%26)
		}
		want = append(want, string(src[:n]))
		got = append(got, a.copy(src[:n]))
		for j := range src[:n] {
			src[j] = '!' // the source is reused, as a fetch buffer is
		}
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("string %d changed after later copies: %.20q..., want %.20q...", i, got[i], want[i])
		}
	}
	long := make([]byte, arenaChunk)
	if s := a.copy(long); len(s) != len(long) {
		t.Fatalf("copy of %d bytes returned %d", len(long), len(s))
	}
	var none *textArena
	if s := none.copy([]byte("x")); s != "x" {
		t.Fatalf("nil arena copy = %q", s)
	}
}
