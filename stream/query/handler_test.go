package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/query"
	"github.com/eddy-streams/eddy/table"
)

type user struct {
	Name string `json:"name"`
	Age  int    `json:"age"`
}

// fixture is an app counting words and keeping users, running on an
// embedded broker, with the counts and users it must end up with.
type fixture struct {
	ctx    context.Context
	client broker.Client
	app    *stream.App
	srv    *httptest.Server
	counts table.Table[string, int64]
	users  table.Table[int64, user]
	words  map[string]int64
	people map[int64]user
	stop   func() error
}

func produce[K, V any](f *fixture, topic string, parts int32, ks serde.Serde[K], vs serde.Serde[V], kvs []stream.KeyValue[K, V]) error {
	builders := map[int32]*batch.Builder{}
	for i, kv := range kvs {
		kb, _ := ks.Serialize(topic, kv.Key)
		vb, err := vs.Serialize(topic, kv.Value)
		if err != nil {
			return err
		}
		p := partition.ForKey(kb, parts)
		if builders[p] == nil {
			builders[p] = batch.NewBuilder(batch.BuilderOptions{})
		}
		builders[p].Add(batch.Record{Key: kb, Value: vb, Timestamp: int64(1000 + i)})
	}
	for p, b := range builders {
		data, err := b.Build(nil)
		if err != nil {
			return err
		}
		if _, err := f.client.Append(f.ctx, topic, p, data); err != nil {
			return fmt.Errorf("append to %s-%d: %w", topic, p, err)
		}
	}
	return nil
}

// words draws n random words (some with '/', spaces, non-ASCII) and counts
// them in f.words.
func words(f *fixture, rng *rand.Rand, n int) []stream.KeyValue[string, string] {
	var kvs []stream.KeyValue[string, string]
	for range n {
		w := fmt.Sprintf("w%03d", rng.IntN(300))
		switch rng.IntN(50) {
		case 0:
			w = "a/b c"
		case 1:
			w = "ünïcode?&="
		}
		f.words[w]++
		kvs = append(kvs, stream.KeyValue[string, string]{Key: w, Value: "seen"})
	}
	return kvs
}

func start(t *testing.T) *fixture {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	t.Cleanup(cancel)
	br := clienttest.OpenBroker(t)
	f := &fixture{ctx: ctx, client: br.Embedded(), words: map[string]int64{}, people: map[int64]user{}}
	if err := f.client.CreateTopics(ctx, broker.TopicSpec{Name: "words", Partitions: 3}, broker.TopicSpec{Name: "users", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	if err := produce(f, "words", 3, serde.String, serde.String, words(f, rand.New(rand.NewPCG(1, 1)), 3000)); err != nil {
		t.Fatal(err)
	}
	var users []stream.KeyValue[int64, user]
	for id := int64(-5); id < 45; id++ {
		u := user{Name: fmt.Sprint("user", id), Age: int(20 + id%30)}
		f.people[id] = u
		users = append(users, stream.KeyValue[int64, user]{Key: id, Value: u})
	}
	if err := produce(f, "users", 2, serde.Int64, serde.JSON[user](), users); err != nil {
		t.Fatal(err)
	}

	b := stream.NewBuilder("query-test")
	words := stream.From(b, "words", serde.String, serde.String)
	f.counts = table.Count(words.GroupByKey(), table.Named("counts"))
	f.users = table.From(b, "users", serde.Int64, serde.JSON[user](), table.Named("users"))
	var err error
	f.app, err = stream.NewApp(b, stream.Config{Client: f.client, StateDir: t.TempDir(), CommitInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(query.Handler(f.app, query.Table(f.counts), query.Table(f.users)))
	t.Cleanup(f.srv.Close)
	return f
}

// run runs the app until f.stop is called.
func (f *fixture) run(t *testing.T) {
	rctx, stop := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- f.app.Run(rctx) }()
	f.stop = sync.OnceValue(func() error { stop(); return <-done })
	t.Cleanup(func() { _ = f.stop() })
	<-f.app.Ready()
}

// settle waits until every word's count and every user is what was
// produced: the users table is read by tasks of its own, which may lag
// behind the counts' on a loaded machine.
func (f *fixture) settle(t *testing.T) {
	t.Helper()
	for w, n := range f.words {
		waitUntil(t, f, fmt.Sprintf("word %s", w), func() (bool, error) {
			got, _, err := table.Lookup(f.app, f.counts, w)
			return got == n, err
		})
	}
	for id, u := range f.people {
		waitUntil(t, f, fmt.Sprintf("user %d", id), func() (bool, error) {
			got, _, err := table.Lookup(f.app, f.users, id)
			return got == u, err
		})
	}
}

// waitUntil polls done until it holds, failing on its error or when the
// fixture's context ends.
func waitUntil(t *testing.T, f *fixture, what string, done func() (bool, error)) {
	t.Helper()
	for {
		ok, err := done()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if f.ctx.Err() != nil {
			t.Fatalf("%s never reached what was produced", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func get(t *testing.T, f *fixture, method, path string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(f.ctx, method, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, a answer, status int, code string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if a.status != status || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("answer %d %s, want %d with code %s", a.status, a.body, status, code)
	}
}

func keyPath(store, key string) string { return "/stores/" + store + "/keys/" + url.PathEscape(key) }

type entry[K, V any] struct {
	Key   K `json:"key"`
	Value V `json:"value"`
}

// rangeAll follows a range's next links to its end.
func rangeAll[K, V any](t *testing.T, f *fixture, path string) ([]entry[K, V], int) {
	t.Helper()
	var out []entry[K, V]
	pages := 0
	next := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	for path != "" {
		a := get(t, f, "GET", path)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var page []entry[K, V]
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatalf("GET %s: %q: %v", path, a.body, err)
		}
		out = append(out, page...)
		pages++
		path = ""
		if l := a.header.Get("Link"); l != "" {
			m := next.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q", l)
			}
			path = m[1]
		}
	}
	return out, pages
}

func sortedWords(words map[string]int64, from, to string) []entry[string, int64] {
	var out []entry[string, int64]
	for w, n := range words {
		if (from == "" || w >= from) && (to == "" || w <= to) {
			out = append(out, entry[string, int64]{w, n})
		}
	}
	slices.SortFunc(out, func(a, b entry[string, int64]) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func TestKeysAndRanges(t *testing.T) {
	f := start(t)
	wantError(t, get(t, f, "GET", keyPath("counts", "w001")), http.StatusServiceUnavailable, "not_ready")
	f.run(t)
	f.settle(t)

	for w, n := range f.words {
		a := get(t, f, "GET", keyPath("counts", w))
		if a.status != http.StatusOK || string(a.body) != fmt.Sprintf("%d\n", n) {
			t.Fatalf("GET %s: %d %q, want %d", w, a.status, a.body, n)
		}
	}
	for id, u := range f.people {
		a := get(t, f, "GET", keyPath("users", fmt.Sprint(id)))
		var got user
		if err := json.Unmarshal(a.body, &got); err != nil || a.status != http.StatusOK || got != u {
			t.Fatalf("GET user %d: %d %q, want %+v", id, a.status, a.body, u)
		}
	}
	wantError(t, get(t, f, "GET", keyPath("counts", "never-seen")), http.StatusNotFound, "key_not_found")
	wantError(t, get(t, f, "GET", keyPath("users", "1000")), http.StatusNotFound, "key_not_found")
	wantError(t, get(t, f, "GET", keyPath("users", "abc")), http.StatusBadRequest, "bad_key")
	wantError(t, get(t, f, "GET", "/stores/users/range?from=x"), http.StatusBadRequest, "bad_key")
	wantError(t, get(t, f, "GET", "/stores/counts/range?limit=0"), http.StatusBadRequest, "bad_request")
	wantError(t, get(t, f, "GET", keyPath("nope", "1")), http.StatusNotFound, "store_not_found")
	wantError(t, get(t, f, "GET", "/elsewhere"), http.StatusNotFound, "not_found")
	a := get(t, f, "POST", keyPath("counts", "w001"))
	wantError(t, a, http.StatusMethodNotAllowed, "method_not_allowed")
	if a.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow %q", a.header.Get("Allow"))
	}

	// Whole range in one page, then in pages of 7 through the links.
	all, pages := rangeAll[string, int64](t, f, "/stores/counts/range")
	if want := sortedWords(f.words, "", ""); !slices.Equal(all, want) || pages != 1 {
		t.Fatalf("range: %d entries in %d pages, want %d in 1", len(all), pages, len(want))
	}
	paged, pages := rangeAll[string, int64](t, f, "/stores/counts/range?limit=7")
	if !slices.Equal(paged, all) || pages != (len(all)+6)/7 {
		t.Fatalf("paged range: %d entries in %d pages, want %d in %d", len(paged), pages, len(all), (len(all)+6)/7)
	}
	for _, b := range [][2]string{{"w100", "w199"}, {"w250", ""}, {"", "w010"}, {"w150", "w150"}, {"w2", "w1"}} {
		q := url.Values{}
		if b[0] != "" {
			q.Set("from", b[0])
		}
		if b[1] != "" {
			q.Set("to", b[1])
		}
		got, _ := rangeAll[string, int64](t, f, "/stores/counts/range?limit=13&"+q.Encode())
		if want := sortedWords(f.words, b[0], b[1]); !slices.Equal(got, want) {
			t.Fatalf("range %q..%q: %d entries, want %d", b[0], b[1], len(got), len(want))
		}
	}
	// int64 keys come in serialized byte order: non-negative, then negative.
	users, _ := rangeAll[int64, user](t, f, "/stores/users/range?from=40&limit=3")
	var ids []int64
	for _, e := range users {
		if e.Value != f.people[e.Key] {
			t.Fatalf("user %d is %+v", e.Key, e.Value)
		}
		ids = append(ids, e.Key)
	}
	if !slices.Equal(ids, []int64{40, 41, 42, 43, 44, -5, -4, -3, -2, -1}) {
		t.Fatalf("users from 40: %v", ids)
	}

	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	wantError(t, get(t, f, "GET", keyPath("counts", "w001")), http.StatusServiceUnavailable, "not_ready")
	wantError(t, get(t, f, "GET", "/stores/counts/range"), http.StatusServiceUnavailable, "not_ready")
}

// TestQueriesWhileProcessing reads keys and ranges from several goroutines
// while the app processes more words: every answer is well-formed and no
// count ever exceeds or goes below what was produced around it.
func TestQueriesWhileProcessing(t *testing.T) {
	f := start(t)
	f.run(t)
	f.settle(t)
	before := map[string]int64{}
	for w, n := range f.words {
		before[w] = n
	}
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	// More words arrive in small batches while the readers run; the
	// expected counts are all known before either starts.
	rng := rand.New(rand.NewPCG(2, 2))
	var batches [][]stream.KeyValue[string, string]
	for range 20 {
		batches = append(batches, words(f, rng, 1000))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, kvs := range batches {
			if err := produce(f, "words", 3, serde.String, serde.String, kvs); err != nil {
				errs <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var between atomic.Int64
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				var path string
				if g%2 == 0 {
					path = keyPath("counts", fmt.Sprintf("w%03d", (i*7+g)%300))
				} else {
					path = "/stores/counts/range?from=w100&to=w140"
				}
				resp, err := http.Get(f.srv.URL + path)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
					return
				}
				var es []entry[string, int64]
				if g%2 == 1 {
					err = json.Unmarshal(body, &es)
				} else {
					var n int64
					err = json.Unmarshal(body, &n)
					es = append(es, entry[string, int64]{fmt.Sprintf("w%03d", (i*7+g)%300), n})
				}
				if err != nil {
					errs <- fmt.Errorf("GET %s: %q: %w", path, body, err)
					return
				}
				for _, e := range es {
					if e.Value > before[e.Key] && e.Value < f.words[e.Key] {
						between.Add(1)
					}
					if e.Value < before[e.Key] || e.Value > f.words[e.Key] {
						errs <- fmt.Errorf("GET %s: %s counts %d, outside %d..%d", path, e.Key, e.Value, before[e.Key], f.words[e.Key])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d counts read between the old and the final one", between.Load())
	f.settle(t)
	all, _ := rangeAll[string, int64](t, f, "/stores/counts/range")
	if want := sortedWords(f.words, "", ""); !slices.Equal(all, want) {
		t.Fatalf("final range: %d entries, want %d", len(all), len(want))
	}
}

// TestMisconfigured: two stores under one name, and a table without a
// store of its own, are reported on every request.
func TestMisconfigured(t *testing.T) {
	f := start(t)
	f.run(t)
	b := stream.NewBuilder("derived")
	counts := table.Count(stream.From(b, "words", serde.String, serde.String).GroupByKey(), table.Named("c"))
	big := counts.Filter(func(_ string, n int64) bool { return n > 10 })
	app, err := stream.NewApp(b, stream.Config{Client: f.client, InMemoryStores: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{
		query.Handler(f.app, query.Table(f.counts), query.Table(f.users).As("counts")),
		query.Handler(app, query.Table(big).As("counts")),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", keyPath("counts", "w001"), nil))
		wantError(t, answer{rec.Code, rec.Header(), rec.Body.Bytes()}, http.StatusInternalServerError, "misconfigured")
	}
}
