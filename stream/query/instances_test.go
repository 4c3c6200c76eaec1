package query_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/broker/wire"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/query"
	"github.com/eddy-streams/eddy/table"
)

// TestQueriesAcrossTwoInstances runs two instances of one app that share the
// embedded broker over the Kafka protocol (sarama clients) and split its
// partitions through the consumer group. Every key is asked of both
// instances over HTTP: its owner answers the count, the other answers 421
// not_owner naming the owner's endpoint and a Location there.
func TestQueriesAcrossTwoInstances(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	br, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler),
		Groups: group.Config{InitialRebalanceDelay: -1, MinSessionTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := wire.SplitHostPort(ln.Addr().String())
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: br, AdvertisedHost: host, AdvertisedPort: port, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	const parts, keys = 6, 60
	if err := br.Embedded().CreateTopics(ctx, broker.TopicSpec{Name: "words", Partitions: parts}); err != nil {
		t.Fatal(err)
	}
	truth := map[string]int64{}
	builders := make([]*batch.Builder, parts)
	for p := range builders {
		builders[p] = batch.NewBuilder(batch.BuilderOptions{})
	}
	for i := 0; i < 3000; i++ {
		k := fmt.Sprintf("w%02d", (i*7)%keys)
		truth[k]++
		p := partition.ForKey([]byte(k), parts)
		builders[p].Add(batch.Record{Key: []byte(k), Value: []byte("x"), Timestamp: int64(i)})
	}
	for p, b := range builders {
		data, _ := b.Build(nil)
		if _, err := br.Embedded().Append(ctx, "words", int32(p), data); err != nil {
			t.Fatal(err)
		}
	}

	type instance struct {
		app  *stream.App
		http *httptest.Server
		done chan error
	}
	var instances []*instance
	for i := 0; i < 2; i++ {
		in := &instance{done: make(chan error, 1)}
		var mu sync.Mutex
		var handler http.Handler = http.NotFoundHandler()
		in.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			h := handler
			mu.Unlock()
			h.ServeHTTP(w, r)
		}))
		defer in.http.Close()
		client, err := kafka.New(kafka.Config{Brokers: []string{ln.Addr().String()}, ClientID: fmt.Sprint("instance-", i)})
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		b := stream.NewBuilder("wordcount-iq")
		counts := table.Count(stream.From(b, "words", serde.String, serde.String).GroupByKey(), table.Named("counts"))
		in.app, err = stream.NewApp(b, stream.Config{Client: client, StateDir: t.TempDir(), CommitInterval: 50 * time.Millisecond,
			ApplicationServer: strings.TrimPrefix(in.http.URL, "http://"),
			SessionTimeout:    time.Second, HeartbeatInterval: 50 * time.Millisecond, RebalanceTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		handler = query.Handler(in.app, query.Table(counts))
		mu.Unlock()
		go func() { in.done <- in.app.Run(ctx) }()
		instances = append(instances, in)
	}

	// Ask every key of both instances until each key has exactly one owner
	// answering the true count and the other pointing at it.
	deadline := time.Now().Add(45 * time.Second)
	for {
		ok, why := checkOwners(t, instances[0].http.URL, instances[1].http.URL, truth)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queries never settled: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	for _, in := range instances {
		if err := <-in.done; err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
	}
}

type iqAnswer struct {
	status   int
	value    int64
	owner    string
	location string
}

func ask(t *testing.T, base, key string) iqAnswer {
	resp, err := http.Get(base + "/stores/counts/keys/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := iqAnswer{status: resp.StatusCode, location: resp.Header.Get("Location")}
	switch resp.StatusCode {
	case http.StatusOK:
		json.Unmarshal(body, &a.value)
	case http.StatusMisdirectedRequest:
		var e struct {
			Error struct {
				Code  string `json:"code"`
				Owner struct {
					Endpoint string `json:"endpoint"`
				} `json:"owner"`
			} `json:"error"`
		}
		json.Unmarshal(body, &e)
		if e.Error.Code != "not_owner" {
			t.Fatalf("421 with code %q: %s", e.Error.Code, body)
		}
		a.owner = e.Error.Owner.Endpoint
	}
	return a
}

// checkOwners reports whether every key is answered by exactly one of the
// two instances with the true count, the other answering 421 with the
// owner's endpoint and a Location on it, and both instances own some keys.
func checkOwners(t *testing.T, a, b string, truth map[string]int64) (bool, string) {
	owned := map[string]int{}
	for key, n := range truth {
		ra, rb := ask(t, a, key), ask(t, b, key)
		var own, other iqAnswer
		var ownerURL string
		switch {
		case ra.status == http.StatusOK && rb.status == http.StatusMisdirectedRequest:
			own, other, ownerURL = ra, rb, a
		case rb.status == http.StatusOK && ra.status == http.StatusMisdirectedRequest:
			own, other, ownerURL = rb, ra, b
		default:
			return false, fmt.Sprintf("key %s answered %d and %d", key, ra.status, rb.status)
		}
		if own.value != n {
			return false, fmt.Sprintf("key %s: owner says %d, want %d", key, own.value, n)
		}
		if "http://"+other.owner != ownerURL || other.location != ownerURL+"/stores/counts/keys/"+key {
			return false, fmt.Sprintf("key %s: 421 names owner %q, Location %q; owner is %s", key, other.owner, other.location, ownerURL)
		}
		owned[ownerURL]++
	}
	if len(owned) != 2 {
		return false, fmt.Sprintf("keys owned by %v", owned)
	}
	return true, ""
}
