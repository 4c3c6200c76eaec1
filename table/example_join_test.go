package table_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Orders enriched with their customer's name: each order looks up the
// customers table as it is when the order arrives. A customer's later
// change does not touch orders already joined, and an order of an unknown
// customer produces nothing.
func ExampleJoinStream() {
	b := stream.NewBuilder("enrich-orders")
	customers := table.From(b, "customers", serde.String, serde.String, table.Named("customers"))
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	table.JoinStream(orders, customers, func(id string, cents int64, name string) string {
		return fmt.Sprintf("%s pays %d.%02d", name, cents/100, cents%100)
	}, serde.String, table.Named("orders-with-names")).To("enriched", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	cust := streamtest.Input(d, "customers", serde.String, serde.String)
	ord := streamtest.Input(d, "orders", serde.String, serde.Int64)
	_ = cust.Pipe("c1", "Ada", t0)
	_ = ord.Pipe("c1", 1250, t0.Add(time.Second))
	_ = ord.Pipe("c2", 999, t0.Add(2*time.Second)) // no such customer yet
	_ = cust.Pipe("c1", "Ada L.", t0.Add(3*time.Second))
	_ = ord.Pipe("c1", 75, t0.Add(4*time.Second))
	for _, r := range streamtest.Output(d, "enriched", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Key, r.Value)
	}
	// Output:
	// c1 Ada pays 12.50
	// c1 Ada L. pays 0.75
}

// The left join keeps orders of unknown customers.
func ExampleLeftJoinStream() {
	b := stream.NewBuilder("all-orders")
	customers := table.From(b, "customers", serde.String, serde.String, table.Named("customers"))
	orders := stream.From(b, "orders", serde.String, serde.Int64)
	table.LeftJoinStream(orders, customers, func(id string, cents int64, name string, found bool) string {
		if !found {
			name = "customer " + id + " (unknown)"
		}
		return fmt.Sprintf("%s: %d", name, cents)
	}, serde.String).To("enriched", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	_ = streamtest.Input(d, "customers", serde.String, serde.String).Pipe("c1", "Ada", t0)
	ord := streamtest.Input(d, "orders", serde.String, serde.Int64)
	_ = ord.Pipe("c1", 1250, t0.Add(time.Second))
	_ = ord.Pipe("c2", 999, t0.Add(2*time.Second))
	for _, r := range streamtest.Output(d, "enriched", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Value)
	}
	// Output:
	// Ada: 1250
	// customer c2 (unknown): 999
}

// Two tables joined on their key: a user's e-mail address next to their
// plan, for users that have both. Each side's update recomputes the row,
// and a delete on either side removes it.
func ExampleJoin() {
	b := stream.NewBuilder("accounts")
	emails := table.From(b, "emails", serde.String, serde.String, table.Named("emails"))
	plans := table.From(b, "plans", serde.String, serde.String, table.Named("plans"))
	accounts := table.Join(emails, plans, func(email, plan string) string { return email + " on " + plan },
		serde.String, table.Named("accounts"))
	accounts.ToStream().To("accounts-out", nil, nil)

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	em := streamtest.Input(d, "emails", serde.String, serde.String)
	pl := streamtest.Input(d, "plans", serde.String, serde.String)
	_ = em.Pipe("u1", "ada@example.com", t0)
	_ = pl.Pipe("u1", "free", t0.Add(time.Second))
	_ = pl.Pipe("u1", "pro", t0.Add(2*time.Second))
	_ = pl.Pipe("u2", "free", t0.Add(3*time.Second)) // no e-mail: no row
	_ = em.PipeTombstone("u1", t0.Add(4*time.Second))
	for _, r := range streamtest.Output(d, "accounts-out", serde.String, serde.String).ReadAll() {
		if r.Tombstone {
			fmt.Println(r.Key, "deleted")
			continue
		}
		fmt.Println(r.Key, r.Value)
	}
	// Output:
	// u1 ada@example.com on free
	// u1 ada@example.com on pro
	// u1 deleted
}

// The outer join keeps a row while either side has the key, and the
// result is a table that can be queried.
func ExampleOuterJoin() {
	b := stream.NewBuilder("inventory")
	stock := table.From(b, "stock", serde.String, serde.Int64, table.Named("stock"))
	orders := table.From(b, "open-orders", serde.String, serde.Int64, table.Named("open-orders"))
	balance := table.OuterJoin(stock, orders, func(have int64, _ bool, want int64, _ bool) int64 { return have - want },
		serde.Int64, table.Named("balance"))

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	_ = streamtest.Input(d, "stock", serde.String, serde.Int64).Pipe("bolts", 100, t0)
	_ = streamtest.Input(d, "open-orders", serde.String, serde.Int64).Pipe("bolts", 30, t0.Add(time.Second))
	_ = streamtest.Input(d, "open-orders", serde.String, serde.Int64).Pipe("nuts", 5, t0.Add(2*time.Second))
	for _, item := range []string{"bolts", "nuts", "screws"} {
		v, ok, err := streamtest.TableValue(d, balance, item)
		fmt.Println(item, v, ok, err)
	}
	// Output:
	// bolts 70 true <nil>
	// nuts -5 true <nil>
	// screws 0 false <nil>
}

// Orders point to their product by a foreign key in their value; the join
// follows it, whichever partitions the two tables have, and follows the
// product's later changes too.
func ExampleJoinForeignKey() {
	type order struct {
		Product string `json:"product"`
		Qty     int64  `json:"qty"`
	}
	b := stream.NewBuilder("order-lines")
	orders := table.From(b, "orders", serde.String, serde.JSON[order](), table.Named("orders"))
	products := table.From(b, "products", serde.String, serde.String, table.Named("products"))
	lines := table.JoinForeignKey(orders, products, func(o order) string { return o.Product },
		func(o order, name string) string { return fmt.Sprintf("%d x %s", o.Qty, name) },
		serde.String, table.Named("order-lines"))

	d, err := streamtest.New(b, streamtest.Partitions("orders", 3), streamtest.Partitions("products", 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	prod := streamtest.Input(d, "products", serde.String, serde.String)
	ord := streamtest.Input(d, "orders", serde.String, serde.JSON[order]())
	_ = prod.Pipe("p1", "bolt", t0)
	_ = ord.Pipe("o1", order{Product: "p1", Qty: 3}, t0.Add(time.Second))
	_ = ord.Pipe("o2", order{Product: "p2", Qty: 1}, t0.Add(2*time.Second)) // no such product yet
	show := func() {
		for _, o := range []string{"o1", "o2"} {
			v, ok, _ := streamtest.TableValue(d, lines, o)
			fmt.Printf("%s: %q %v\n", o, v, ok)
		}
	}
	show()
	_ = prod.Pipe("p1", "hex bolt", t0.Add(3*time.Second))
	_ = prod.Pipe("p2", "nut", t0.Add(4*time.Second))
	show()
	// Output:
	// o1: "3 x bolt" true
	// o2: "" false
	// o1: "3 x hex bolt" true
	// o2: "1 x nut" true
}

// A global table holds every partition of its topic in every task, so a
// stream joins it on any key it computes, with no repartitioning: here
// page views look up their country by the visitor's IP prefix.
func ExampleJoinGlobal() {
	b := stream.NewBuilder("views-by-country")
	countries := table.Global(b, "ip-prefixes", serde.String, serde.String, table.Named("countries"))
	views := stream.From(b, "views", serde.String, serde.String) // user → IP address
	prefix := func(_ string, ip string) string { return ip[:strings.LastIndex(ip, ".")] }
	table.LeftJoinGlobal(views, countries, prefix, func(user, ip, country string, found bool) string {
		if !found {
			country = "unknown"
		}
		return user + " from " + country
	}, serde.String).To("located-views", nil, nil)

	d, err := streamtest.New(b, streamtest.Partitions("views", 3), streamtest.Partitions("ip-prefixes", 2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	ips := streamtest.Input(d, "ip-prefixes", serde.String, serde.String)
	_ = ips.Pipe("192.0.2", "NL", t0)
	_ = ips.Pipe("198.51.100", "FR", t0)
	v := streamtest.Input(d, "views", serde.String, serde.String)
	_ = v.Pipe("ada", "192.0.2.7", t0.Add(time.Second))
	_ = v.Pipe("bob", "198.51.100.1", t0.Add(2*time.Second))
	_ = v.Pipe("cy", "203.0.113.9", t0.Add(3*time.Second))
	for _, r := range streamtest.Output(d, "located-views", serde.String, serde.String).ReadAll() {
		fmt.Println(r.Value)
	}
	// Output:
	// ada from NL
	// bob from FR
	// cy from unknown
}
