package nexmark

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func generate(t testing.TB, opts ...Option) []Event {
	t.Helper()
	g, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Collect(g.All())
}

func TestDeterministicFromSeed(t *testing.T) {
	a := generate(t, Seed(7), Events(5000), OutOfOrderGroup(10), DelayedEvents(0.1, time.Second))
	b := generate(t, Seed(7), Events(5000), OutOfOrderGroup(10), DelayedEvents(0.1, time.Second))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two generators with the same seed and options differ")
	}
	c := generate(t, Seed(8), Events(5000), OutOfOrderGroup(10), DelayedEvents(0.1, time.Second))
	same := 0
	for i := range a {
		if reflect.DeepEqual(a[i], c[i]) {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("seeds 7 and 8 give %d identical events out of %d", same, len(a))
	}
}

func TestProportionsAndIDs(t *testing.T) {
	evs := generate(t, Events(100_000))
	if len(evs) != 100_000 {
		t.Fatalf("%d events, want 100000", len(evs))
	}
	var persons, auctions int64
	for i, e := range evs {
		if e.ID != int64(i) || e.Number != int64(i) {
			t.Fatalf("event %d has id %d number %d", i, e.ID, e.Number)
		}
		want := KindBid
		switch r := e.ID % 50; {
		case r < 1:
			want = KindPerson
		case r < 4:
			want = KindAuction
		}
		if e.Kind() != want {
			t.Fatalf("event %d is a %v, want a %v", i, e.Kind(), want)
		}
		switch e.Kind() {
		case KindPerson:
			if e.Person.ID != 1000+persons {
				t.Fatalf("person %d has id %d, want %d", persons, e.Person.ID, 1000+persons)
			}
			persons++
		case KindAuction:
			if e.Auction.ID != 1000+auctions {
				t.Fatalf("auction %d has id %d, want %d", auctions, e.Auction.ID, 1000+auctions)
			}
			auctions++
		}
	}
	if persons != 2000 || auctions != 6000 {
		t.Fatalf("%d persons and %d auctions in 100000 events, want 2000 and 6000", persons, auctions)
	}
}

// TestFieldRules checks the value rules of each entity and the hot ratios
// over many events.
func TestFieldRules(t *testing.T) {
	evs := generate(t, Seed(3), Events(200_000))
	states := map[string]bool{"AZ": true, "CA": true, "ID": true, "OR": true, "WA": true, "WY": true}
	hotChannels := map[string]bool{"Google": true, "Facebook": true, "Baidu": true, "Apple": true}
	var lastPerson, lastAuction int64 = 999, 999
	var bids, hotAuction, hotBidder, hotChannel, extraBytes int
	var auctions, hotSeller int
	for i, e := range evs {
		if want := defaultBaseTime + int64(i)/10; e.Timestamp() != want {
			t.Fatalf("event %d at %d, want %d (10,000 events/s)", i, e.Timestamp(), want)
		}
		switch {
		case e.Person != nil:
			p := e.Person
			lastPerson = p.ID
			if !states[p.State] || p.City == "" || p.Name == "" || len(p.CreditCard) != 19 {
				t.Fatalf("person %+v", p)
			}
		case e.Auction != nil:
			a := e.Auction
			lastAuction = a.ID
			auctions++
			if a.Category < 10 || a.Category > 14 || a.InitialBid < 100 || a.Reserve <= a.InitialBid || a.Expires <= a.DateTime {
				t.Fatalf("auction %+v", a)
			}
			if a.Seller < 1000 || a.Seller > lastPerson+10 {
				t.Fatalf("auction %d by seller %d; the last person is %d", a.ID, a.Seller, lastPerson)
			}
			if a.Seller == (lastPerson-1000)/100*100+1000 {
				hotSeller++
			}
		default:
			b := e.Bid
			bids++
			if b.Price < 100 || b.Price > 100_000_000 {
				t.Fatalf("bid price %d", b.Price)
			}
			if b.Auction < 1000 || b.Auction > lastAuction+10 || b.Bidder < 1000 || b.Bidder > lastPerson+10 {
				t.Fatalf("bid %+v; the last auction is %d, the last person %d", b, lastAuction, lastPerson)
			}
			if b.Auction == (lastAuction-1000)/100*100+1000 {
				hotAuction++
			}
			if b.Bidder == (lastPerson-1000)/100*100+1001 {
				hotBidder++
			}
			if hotChannels[b.Channel] {
				hotChannel++
			} else if len(b.Channel) < 9 || b.Channel[:8] != "channel-" {
				t.Fatalf("bid channel %q", b.Channel)
			}
			extraBytes += len(b.Extra)
		}
	}
	// Picks of the hot one, plus random picks that land on it.
	within := func(what string, n, of int, lo, hi float64) {
		f := float64(n) / float64(of)
		t.Logf("%s: %.4f", what, f)
		if f < lo || f > hi {
			t.Errorf("%s: %.3f of %d, want %.2f..%.2f", what, f, of, lo, hi)
		}
	}
	within("bids on the hot auction", hotAuction, bids, 0.49, 0.53)
	within("bids by the hot bidder", hotBidder, bids, 0.74, 0.77)
	within("auctions by the hot seller", hotSeller, auctions, 0.73, 0.78)
	within("bids through a hot channel", hotChannel, bids, 0.48, 0.52)
	// Bids carry 32 bytes of numbers and are padded to 100 on average.
	if avg := float64(extraBytes) / float64(bids); avg < 66 || avg > 70 {
		t.Errorf("bids' extra is %.1f bytes on average, want about 68", avg)
	}
}

// TestOutOfOrder checks that shuffled groups and delayed events reorder
// the same events, by no more than MaxLateness.
func TestOutOfOrder(t *testing.T) {
	opts := []Option{Seed(11), Events(50_000), EventRate(1000)}
	inOrder := generate(t, opts...)
	g, err := New(append(opts, OutOfOrderGroup(20), DelayedEvents(0.1, 3*time.Second))...)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Collect(g.All())
	if len(shuffled) != len(inOrder) {
		t.Fatalf("%d events, want %d", len(shuffled), len(inOrder))
	}
	// 20 events at 1,000/s span 20 ms; delays reach 3 s.
	if got := g.MaxLateness(); got != 3000+2*20 {
		t.Fatalf("MaxLateness %d, want 3040", got)
	}
	var late, worst int64
	maxTS := shuffled[0].Timestamp()
	for _, e := range shuffled {
		if d := maxTS - e.Timestamp(); d > 0 {
			late++
			worst = max(worst, d)
		}
		maxTS = max(maxTS, e.Timestamp())
	}
	if worst > g.MaxLateness() || worst < 2500 || late < 5000 {
		t.Fatalf("%d late events, the latest by %d ms; want thousands, up to %d ms", late, worst, g.MaxLateness())
	}
	slices.SortFunc(shuffled, func(a, b Event) int { return int(a.ID - b.ID) })
	for i := range shuffled {
		a, b := shuffled[i], inOrder[i]
		a.Number, b.Number = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("event id %d differs once reordered:\n%+v\n%+v", i, a, b)
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	for name, opt := range map[string]Option{
		"rate":        EventRate(0),
		"group":       OutOfOrderGroup(0),
		"group953":    OutOfOrderGroup(953),
		"delay":       DelayedEvents(0.5, 0),
		"probability": DelayedEvents(2, time.Second),
		"proportions": Proportions(1, 0, 46),
		"hot":         HotRatios(0, 4, 4),
		"people":      ActivePeople(0),
	} {
		if _, err := New(opt); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	g, err := New(Events(0))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Next()
	}
}
