package nexmark

import "time"

// Person is a new user of the auction site (Nexmark's Person). Its JSON
// field names are those of the Beam and Flink Nexmark models.
type Person struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`
	// DateTime is when the person registered, in Unix milliseconds: the
	// record's timestamp too.
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Auction is an item put up for sale (Nexmark's Auction).
type Auction struct {
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	// InitialBid and Reserve are prices in cents; Reserve > InitialBid.
	InitialBid int64 `json:"initialBid"`
	Reserve    int64 `json:"reserve"`
	// DateTime is when the auction opened and Expires when it closes, in
	// Unix milliseconds; Expires > DateTime.
	DateTime int64  `json:"dateTime"`
	Expires  int64  `json:"expires"`
	Seller   int64  `json:"seller"`
	Category int64  `json:"category"`
	Extra    string `json:"extra"`
}

// Listing is an auction without its text (item name, description and
// extra): what a query that reads only an auction's numbers decodes, as a
// columnar source would read only the columns a query projects. It is read
// from the auction topic (ListingSerde).
type Listing struct {
	ID         int64 `json:"id"`
	InitialBid int64 `json:"initialBid"`
	Reserve    int64 `json:"reserve"`
	DateTime   int64 `json:"dateTime"`
	Expires    int64 `json:"expires"`
	Seller     int64 `json:"seller"`
	Category   int64 `json:"category"`
}

// Bid is a bid on an auction (Nexmark's Bid, with the channel and url
// fields of the Flink model).
type Bid struct {
	Auction int64 `json:"auction"`
	Bidder  int64 `json:"bidder"`
	// Price is in cents.
	Price   int64  `json:"price"`
	Channel string `json:"channel"`
	URL     string `json:"url"`
	// DateTime is when the bid was made, in Unix milliseconds.
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// BidRow is a bid without its channel and url: the columns Flink's
// pass-through query selects (q0.sql: auction, bidder, price, dateTime,
// extra), and what q0 writes. It is read from the bid topic (BidRowSerde).
type BidRow struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Row is b as q0 selects it.
func (b Bid) Row() BidRow {
	return BidRow{Auction: b.Auction, Bidder: b.Bidder, Price: b.Price, DateTime: b.DateTime, Extra: b.Extra}
}

// Listing is a without its text.
func (a Auction) Listing() Listing {
	return Listing{ID: a.ID, InitialBid: a.InitialBid, Reserve: a.Reserve, DateTime: a.DateTime,
		Expires: a.Expires, Seller: a.Seller, Category: a.Category}
}

// Kind says which of the three entities an Event carries.
type Kind int

const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	case KindBid:
		return "bid"
	}
	return "unknown"
}

// Topic is the Nexmark topic that holds events of kind k.
func (k Kind) Topic() string {
	switch k {
	case KindPerson:
		return PersonTopic
	case KindAuction:
		return AuctionTopic
	}
	return BidTopic
}

// Event is one generated event: exactly one of Person, Auction and Bid is
// set.
type Event struct {
	Person  *Person
	Auction *Auction
	Bid     *Bid
	// ID is the event's id (its adjusted event number), which decides its
	// kind and the ids it carries; Number is its position in generation
	// order, before delayed events are moved later.
	ID, Number int64
}

// Kind returns the kind of entity e carries.
func (e Event) Kind() Kind {
	switch {
	case e.Person != nil:
		return KindPerson
	case e.Auction != nil:
		return KindAuction
	}
	return KindBid
}

// Timestamp is the event's event time in Unix milliseconds (its entity's
// DateTime).
func (e Event) Timestamp() int64 {
	switch {
	case e.Person != nil:
		return e.Person.DateTime
	case e.Auction != nil:
		return e.Auction.DateTime
	}
	return e.Bid.DateTime
}

// Time is Timestamp as a time.Time in UTC.
func (e Event) Time() time.Time { return time.UnixMilli(e.Timestamp()).UTC() }
