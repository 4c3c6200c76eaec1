package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/topology"
)

// slowChangelog hands out one batch of topic per fetch, as a slow or
// starved restore would get them, and after allow fetches holds the next
// ones until the caller gives up or release is closed.
type slowChangelog struct {
	broker.Client
	topic   string
	allow   int
	release chan struct{}
	held    chan struct{} // closed when the first fetch is held

	mu      sync.Mutex
	fetches int
}

func (c *slowChangelog) Fetch(ctx context.Context, topic string, p int32, offset int64, maxBytes int, wait time.Duration) (broker.FetchResult, error) {
	if topic != c.topic {
		return c.Client.Fetch(ctx, topic, p, offset, maxBytes, wait)
	}
	c.mu.Lock()
	c.fetches++
	if c.fetches == c.allow+1 {
		close(c.held)
	}
	hold := c.fetches > c.allow
	c.mu.Unlock()
	if hold {
		select {
		case <-c.release:
		case <-ctx.Done():
			return broker.FetchResult{}, ctx.Err()
		}
	}
	res, err := c.Client.Fetch(ctx, topic, p, offset, maxBytes, wait)
	if err != nil || len(res.Batches) == 0 {
		return res, err
	}
	one, _, err := batch.Next(res.Batches)
	if err != nil {
		return res, err
	}
	res.Batches = one
	return res, nil
}

// TestPromoteGoesOnWithAnUnfinishedStandby: a standby whose first restore
// is halted midway (its task comes here before it caught up) is promoted
// by replaying only the rest of the changelog onto what it already
// applied, not by wiping its stores and replaying it all; the store ends
// up the fold of the whole changelog.
func TestPromoteGoesOnWithAnUnfinishedStandby(t *testing.T) {
	ctx := context.Background()
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const changelog = "promote-counts-changelog"
	batches, perBatch := restoreBatch/1000+2, 1000
	client := &slowChangelog{Client: b.Embedded(), topic: changelog, allow: restoreBatch / perBatch,
		release: make(chan struct{}), held: make(chan struct{})}
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "in", Partitions: 1}); err != nil {
		t.Fatal(err)
	}

	topo := topology.New("promote")
	source(t, topo, "src", []string{"in"}, []string{"counts"}, func(topology.TaskContext) (topology.SourceFunc, error) {
		return func(*topology.RawRecord) error { return nil }, nil
	})
	if err := topo.AddStore(&topology.StoreSpec{Name: "counts", Changelog: changelog}); err != nil {
		t.Fatal(err)
	}
	e, err := New(topo, Config{AppID: "promote", Client: client, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := makePlan(ctx, topo, client)
	if err != nil {
		t.Fatal(err)
	}
	e.plan = p

	// Keys repeat, so the store is the changelog's fold, not its copy.
	want := map[string]string{}
	for i := range batches {
		bl := batch.NewBuilder(batch.BuilderOptions{})
		for j := range perBatch {
			n := i*perBatch + j
			k, v := fmt.Sprint("k", n%(3*perBatch)), fmt.Sprint("v", n)
			bl.Add(batch.Record{Key: []byte(k), Value: []byte(v), Timestamp: int64(n)})
			want[k] = v
		}
		data, err := bl.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Append(ctx, changelog, 0, data); err != nil {
			t.Fatal(err)
		}
	}

	r := e.newRuntime(ctx)
	defer func() {
		if err := r.shutdown(); err != nil {
			t.Error(err)
		}
	}()
	id := topology.TaskID{Subtopology: 0, Partition: 0}
	r.startStandby(id)
	select {
	case <-client.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the standby's restore never reached its held fetch")
	}
	r.standbys[id].halt()
	close(client.release)

	at, err := r.openActive(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	s := at.t.byName["counts"]
	total := int64(batches * perBatch)
	if s.restoredFrom != restoreBatch || s.restored != total-restoreBatch {
		t.Errorf("the promoted task replayed %d records from %d; the standby had applied %d of %d, so want %d from %d",
			s.restored, s.restoredFrom, restoreBatch, total, total-restoreBatch, restoreBatch)
	}
	if s.checkpoint != total {
		t.Errorf("the promoted store holds its changelog up to %d, want %d", s.checkpoint, total)
	}
	got := map[string]string{}
	it, err := s.cached.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		got[string(it.Key())] = string(it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("the store holds %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("key %s: %q, want %q", k, got[k], v)
		}
	}
}
