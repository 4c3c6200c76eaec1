package nexmark

import (
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Q3's selection: auctions in this category by sellers in these states.
const q3Category = 10

func q3State(s string) bool { return s == "OR" || s == "ID" || s == "CA" }

// LocalItem is Q3's result: an auction and its seller's name and place.
type LocalItem struct {
	Name    string `json:"name"`
	City    string `json:"city"`
	State   string `json:"state"`
	Auction int64  `json:"auction"`
}

// latest keeps a key's newest value: Reduce with it turns a stream of
// entities keyed by id into a table of them.
func latest[V any](_, v V) V { return v }

// Q3 is Nexmark's local item suggestion: the auctions of category 10 whose
// seller lives in Oregon, Idaho or California, with the seller's name,
// city and state, keyed by auction. As in Flink's SQL version it is an
// unwindowed inner join, updated as persons and auctions arrive in any
// order: the auctions become a table keyed by id, the persons one keyed by
// id, and a foreign-key join (auction.seller → person.id) pairs them.
func Q3(src *Sources, out string, _ Params) {
	persons := table.Reduce(src.Persons().Filter(func(_ int64, p Person) bool { return q3State(p.State) }, stream.Named("q3-local-persons")).GroupByKey(),
		latest[Person], table.Named("q3-persons"))
	auctions := table.Reduce(src.Auctions().Filter(func(_ int64, a Auction) bool { return a.Category == q3Category }, stream.Named("q3-category")).GroupByKey(),
		latest[Auction], table.Named("q3-auctions"))
	items := table.JoinForeignKey(auctions, persons, func(a Auction) int64 { return a.Seller },
		func(a Auction, p Person) LocalItem {
			return LocalItem{Name: p.Name, City: p.City, State: p.State, Auction: a.ID}
		}, serde.JSON[LocalItem](), table.Named("q3-join"))
	items.ToStream().To(out, serde.Int64, serde.JSON[LocalItem](), stream.SinkNamed[int64, LocalItem]("q3-sink"))
}
