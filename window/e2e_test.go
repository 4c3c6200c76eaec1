package window_test

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// produce appends events to a two-partition topic, each on its key's
// partition, keeping their order within a partition.
func produce(ctx context.Context, t *testing.T, client broker.Client, topic string, evs []event) {
	t.Helper()
	builders := map[int32]*batch.Builder{}
	for _, e := range evs {
		p := partitionOf(e.Key, parts)
		if builders[p] == nil {
			builders[p] = batch.NewBuilder(batch.BuilderOptions{})
		}
		v, _ := serde.Int64.Serialize(topic, e.Value)
		builders[p].Add(batch.Record{Key: []byte(e.Key), Value: v, Timestamp: e.TS})
	}
	for p, b := range builders {
		data, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Append(ctx, topic, p, data); err != nil {
			t.Fatal(err)
		}
	}
}

// e2eApp runs the windowed count of the end-to-end test until stopped.
type e2eApp struct {
	app    *stream.App
	counts table.Table[window.Key[string], int64]
	stop   context.CancelFunc
	done   chan error
}

func runE2E(ctx context.Context, t *testing.T, client broker.Client, stateDir string) *e2eApp {
	t.Helper()
	return startE2E(ctx, t, client, stateDir, "restore", func(g stream.Grouped[string, int64]) table.Table[window.Key[string], int64] {
		counts := window.Count(g, window.Tumbling(5*time.Second).Grace(2*time.Second), window.Named("counts"),
			window.Retention(24*time.Hour))
		counts.ToStream().To("counts", nil, nil, window.ByKey[string, int64](serde.String))
		return counts
	})
}

// startE2E runs app id's windowed count of "payments", which agg builds,
// until stopped.
func startE2E(ctx context.Context, t *testing.T, client broker.Client, stateDir, id string,
	agg func(stream.Grouped[string, int64]) table.Table[window.Key[string], int64]) *e2eApp {
	t.Helper()
	b := stream.NewBuilder(id)
	counts := agg(stream.From(b, "payments", serde.String, serde.Int64).GroupByKey())
	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: stateDir, CommitInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	a := &e2eApp{app: app, counts: counts, stop: stop, done: make(chan error, 1)}
	go func() { a.done <- app.Run(runCtx) }()
	select {
	case <-app.Ready():
	case err := <-a.done:
		t.Fatalf("app stopped before it was ready: %v", err)
	}
	return a
}

func (a *e2eApp) close(t *testing.T) {
	t.Helper()
	a.stop()
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
}

// fetchAll returns every window of every key the app holds.
func (a *e2eApp) fetchAll(t *testing.T) map[window.Key[string]]int64 {
	t.Helper()
	got := map[window.Key[string]]int64{}
	for k := range nKeys {
		kvs, err := window.Fetch(a.app, a.counts, fmt.Sprintf("k%d", k), 0, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range kvs {
			got[kv.Key] = kv.Value
		}
	}
	return got
}

func counts(ref *reference) map[window.Key[string]]int64 {
	out := map[window.Key[string]]int64{}
	for k, w := range ref.windows {
		out[k] = int64(len(w.Values))
	}
	return out
}

// waitFor polls the app until it holds want and has counted late records.
// Queries see a window's count as it grows, so a poll may come while the
// last records are being counted: only the deadline makes a difference a
// failure.
func (a *e2eApp) waitFor(t *testing.T, want map[window.Key[string]]int64, late int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := a.fetchAll(t)
		n, err := window.LateRecords(a.app, a.counts)
		if err != nil {
			t.Fatal(err)
		}
		if n == int64(late) && maps.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			compareMaps(t, "windows", got, want)
			t.Fatalf("after a minute: %d late records, want %d", n, late)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWindowStoreRestoresAfterRestart counts out-of-order payments in
// windows on the embedded broker, restarts the app on an empty state
// directory (so the window store is rebuilt from its changelog), goes on
// with more input, and restarts once more on intact local state.
func TestWindowStoreRestoresAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	br := clienttest.OpenBroker(t)
	client := br.Embedded()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "payments", Partitions: parts}, broker.TopicSpec{Name: "counts", Partitions: parts}); err != nil {
		t.Fatal(err)
	}
	const grace = 2 * time.Second
	evs := randomEvents(11, 2000, nKeys, 400*time.Millisecond, 10*time.Second, grace, 5*time.Second)
	first, second := evs[:1200], evs[1200:]
	refFirst := referenceTime(first, parts, 5*time.Second, 5*time.Second, grace)
	refAll := referenceTime(evs, parts, 5*time.Second, 5*time.Second, grace)

	produce(ctx, t, client, "payments", first)
	a := runE2E(ctx, t, client, t.TempDir())
	a.waitFor(t, counts(refFirst), len(refFirst.late))
	a.close(t)

	info, ok := br.Topic("restore-counts-changelog")
	if !ok {
		t.Fatal("no changelog topic")
	}
	wantRetention := strconv.FormatInt((24*time.Hour + 24*time.Hour).Milliseconds(), 10)
	if info.Configs["cleanup.policy"] != "compact,delete" || info.Configs["retention.ms"] != wantRetention {
		t.Fatalf("changelog configs %v, want compact,delete and retention.ms %s", info.Configs, wantRetention)
	}

	// A new instance with no local state: the store comes back from its
	// changelog before any new record, operator time included, so that
	// the rest of the input is late exactly where the reference says.
	stateDir := t.TempDir()
	a = runE2E(ctx, t, client, stateDir)
	si, err := a.app.Internal().StoreInfo("counts")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(parts) {
		if si.RestoredFrom[p] != broker.Earliest || si.Restored[p] == 0 {
			t.Fatalf("partition %d: restored %d records from %d, want a full restore", p, si.Restored[p], si.RestoredFrom[p])
		}
	}
	compareMaps(t, "windows right after the restore", a.fetchAll(t), counts(refFirst))
	produce(ctx, t, client, "payments", second)
	a.waitFor(t, counts(refAll), len(refAll.late)-len(refFirst.late))
	a.close(t)

	// Intact local state: only the changelog's tail (nothing) is replayed.
	a = runE2E(ctx, t, client, stateDir)
	si, err = a.app.Internal().StoreInfo("counts")
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(parts) {
		if si.RestoredFrom[p] == broker.Earliest || si.Restored[p] != 0 {
			t.Fatalf("partition %d: restored %d records from %d, want none from the checkpoint", p, si.Restored[p], si.RestoredFrom[p])
		}
	}
	compareMaps(t, "windows after a restart on local state", a.fetchAll(t), counts(refAll))
	a.close(t)

	// The output topic's last value of each window is its count, on the
	// partition of its record key.
	last := map[window.Key[string]]int64{}
	for _, kv := range readWindowed(ctx, t, client, "counts") {
		if p := partitionOf(kv.Key.Key, parts); p != kv.Partition {
			t.Fatalf("window %v on partition %d, its key's is %d", kv.Key, kv.Partition, p)
		}
		last[kv.Key] = kv.Value
	}
	compareMaps(t, "last value per window on the output topic", last, counts(refAll))
	if len(refAll.late) == len(refFirst.late) {
		t.Fatal("the second part of the input has no late records: restored operator time is not tested")
	}
}
