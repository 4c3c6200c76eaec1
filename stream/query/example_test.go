package query_test

import (
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/query"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// Serve a table of page views over HTTP. The app here is run by
// streamtest's driver; a real one is an App running on a broker.
func ExampleHandler() {
	b := stream.NewBuilder("page-views")
	views := stream.From(b, "views", serde.String, serde.String)
	perPage := table.Count(views.GroupByKey(), table.Named("views-per-page"))

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "views", serde.String, serde.String)
	for _, page := range []string{"/home", "/about", "/home", "/docs", "/home"} {
		_ = in.Pipe(page, "alice", time.Unix(0, 0))
	}

	h := query.Handler(d.App(), query.Table(perPage).As("views"))
	for _, path := range []string{
		"/stores/views/keys/%2Fhome",
		"/stores/views/range?from=/b&to=/e",
		"/stores/views/keys/%2Fnowhere",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 3
	// 200 [{"key":"/docs","value":1}]
	// 404 {"error":{"code":"key_not_found","message":"store views has no key \"/nowhere\"","store":"views","key":"/nowhere"}}
}

// Keys can be read from URLs in the application's own syntax: here
// "order-42" for the int64 key 42.
func ExampleTableQuery_ParseKey() {
	b := stream.NewBuilder("orders")
	totals := table.Reduce(stream.From(b, "amounts", serde.Int64, serde.Int64).GroupByKey(),
		func(acc, v int64) int64 { return acc + v }, table.Named("totals"))

	d, err := streamtest.New(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	in := streamtest.Input(d, "amounts", serde.Int64, serde.Int64)
	_ = in.Pipe(42, 250, time.Unix(0, 0))
	_ = in.Pipe(42, 100, time.Unix(1, 0))

	q := query.Table(totals).ParseKey(
		func(s string) (int64, error) {
			var id int64
			_, err := fmt.Sscanf(s, "order-%d", &id)
			return id, err
		},
		func(id int64) (string, error) { return fmt.Sprintf("order-%d", id), nil })
	h := query.Handler(d.App(), q)
	for _, path := range []string{"/stores/totals/keys/order-42", "/stores/totals/keys/42"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	// Output:
	// 200 350
	// 400 {"error":{"code":"bad_key","message":"query: bad key \"42\": input does not match format","store":"totals","key":"42"}}
}
