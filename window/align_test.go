package window_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/window"
)

// TestRepartitionedBacklogNotLate catches up on a backlog with two threads,
// one partition's records much slower to process than the others', then
// counts them per window after a repartition. Each partition of the
// repartition topic mixes the records of all four upstream tasks; unless
// the engine keeps those tasks near each other in event time (and their
// batches short in it), the fast worker's records push the window
// operator's time past the slow one's windows and their records are
// dropped as late. With the engine's defaults none may be.
func TestRepartitionedBacklogNotLate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	br := clienttest.OpenBroker(t)
	client := br.Embedded()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "visits", Partitions: 4}); err != nil {
		t.Fatal(err)
	}
	const perPartition, step, pages = 3000, 20, 7 // 60 s of event time per partition
	const base = int64(1_700_000_000_000)
	want := map[string]int64{} // "page@windowStart" → count
	for p := range int32(4) {
		b := batch.NewBuilder(batch.BuilderOptions{})
		for i := range perPartition {
			ts := base + int64(i*step)
			b.Add(batch.Record{Key: fmt.Appendf(nil, "%d:%d", p, i), Value: []byte("v"), Timestamp: ts})
			want[fmt.Sprintf("page-%d@%d", i%pages, ts-ts%1000)]++
		}
		data, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Append(ctx, "visits", p, data); err != nil {
			t.Fatal(err)
		}
	}

	b := stream.NewBuilder("aligned")
	visits := stream.From(b, "visits", serde.String, serde.String).Peek(func(k, _ string) {
		if strings.HasPrefix(k, "0:") {
			spin(40 * time.Microsecond) // partition 0 is slow to process
		}
	})
	byPage := stream.SelectKey(visits, func(k, _ string) string {
		i, _ := strconv.Atoi(k[strings.IndexByte(k, ':')+1:])
		return "page-" + strconv.Itoa(i%pages)
	}, stream.Serdes(serde.String, serde.String))
	counts := window.Count(byPage.GroupByKey(), window.Tumbling(time.Second).Grace(2*time.Second), window.Named("per-page"),
		window.Retention(24*time.Hour))
	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: t.TempDir(), Threads: 2, CommitInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	total := int64(4 * perPartition)
	for app.Stats().Records < 2*total { // each record is processed twice: before and after the repartition
		select {
		case err := <-done:
			t.Fatalf("app stopped: %v", err)
		case <-ctx.Done():
			t.Fatalf("processed %d of %d records", app.Stats().Records, 2*total)
		case <-time.After(10 * time.Millisecond):
		}
	}
	late, err := window.LateRecords(app, counts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for i := range pages {
		page := "page-" + strconv.Itoa(i)
		ws, err := window.Fetch(app, counts, page, base, base+int64(perPartition*step))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			got[fmt.Sprintf("%s@%d", page, w.Key.Start)] = w.Value
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if late != 0 {
		t.Fatalf("%d of %d records late", late, total)
	}
	if len(got) != len(want) {
		t.Fatalf("%d windows, want %d", len(got), len(want))
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("window %s counted %d, want %d", k, got[k], n)
		}
	}
}

// spin burns CPU for d, standing for a costly record.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
