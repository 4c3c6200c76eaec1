package kafka_test

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

type click struct {
	Page   string `json:"page"`
	Device string `json:"device"`
}

// TestClickCountEndToEnd runs the stream engine's click count (filter,
// re-key through a repartition topic, count into a changelogged store,
// write the counts out) with the sarama client, against the embedded
// broker over the Kafka protocol and against Apache Kafka, and checks the
// store and the output topic against counts made directly.
func TestClickCountEndToEnd(t *testing.T) {
	backends(t, func(t *testing.T, addr string) {
		c := newClient(t, addr)
		defer c.Close()
		clickCount(t, c, uniqueName(t, "app"))
	})
}

func clickCount(t *testing.T, client broker.Client, app string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	in, out := app+"-clicks", app+"-page-views"
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: in, Partitions: 3}, broker.TopicSpec{Name: out, Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	js := serde.JSON[click]()
	for p := int32(0); p < 3; p++ {
		b := batch.NewBuilder(batch.BuilderOptions{Codec: batch.LZ4})
		for i := 0; i < 500; i++ {
			c := click{Page: fmt.Sprintf("/p%d", (i*7+int(p))%13), Device: []string{"mobile", "desktop"}[i%2]}
			if c.Device == "mobile" {
				want[c.Page]++
			}
			v, err := js.Serialize(in, c)
			if err != nil {
				t.Fatal(err)
			}
			b.Add(batch.Record{Key: []byte(fmt.Sprint("user", i)), Value: v, Timestamp: 1_700_000_000_000 + int64(i)})
		}
		data, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Append(ctx, in, p, data); err != nil {
			t.Fatal(err)
		}
	}

	b := stream.NewBuilder(app)
	clicks := stream.From(b, in, serde.String, js)
	mobile := clicks.Filter(func(_ string, c click) bool { return c.Device == "mobile" })
	byPage := stream.GroupBy(mobile, func(_ string, c click) string { return c.Page }, serde.String, stream.Named("by-page"))
	views := table.Count(byPage, table.Named("views-per-page"))
	views.ToStream().To(out, serde.String, serde.Int64)
	a, err := stream.NewApp(b, stream.Config{Client: client, StateDir: t.TempDir(), CommitInterval: 100 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- a.Run(runCtx) }()
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("app stopped before it was ready: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for page, n := range want {
		for {
			got, ok, err := table.Lookup(a, views, page)
			if err != nil {
				t.Fatal(err)
			}
			if ok && got == n {
				break
			}
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("page %s: count %d (found %v), want %d; app: %v", page, got, ok, n, <-done)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Logf("counts complete %v after start", time.Since(start).Round(time.Millisecond))
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The last value per page in the output topic equals the count, and
	// the app's committed offsets cover the input.
	last := map[string]int64{}
	for p := int32(0); p < 2; p++ {
		hw, err := client.ListOffset(ctx, out, p, broker.Latest)
		if err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < hw; {
			res, err := client.Fetch(ctx, out, p, off, 1<<20, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			for data := res.Batches; len(data) > 0; {
				one, rest, err := batch.Next(data)
				if err != nil {
					t.Fatal(err)
				}
				it, err := batch.NewIterator(one)
				if err != nil {
					t.Fatal(err)
				}
				for it.Next() {
					r := it.Record()
					if r.Offset < off {
						continue
					}
					n, err := serde.Int64.Deserialize(out, r.Value)
					if err != nil {
						t.Fatal(err)
					}
					last[string(r.Key)] = n
					off = r.Offset + 1
				}
				data = rest
			}
		}
	}
	if !maps.Equal(last, want) {
		t.Fatalf("%s last values %v, want %v", out, last, want)
	}
	tps := []broker.TopicPartition{{Topic: in, Partition: 0}, {Topic: in, Partition: 1}, {Topic: in, Partition: 2}}
	committed, err := client.CommittedOffsets(ctx, app, tps)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range committed {
		if o.Offset != 500 {
			t.Errorf("committed %s-%d at %d, want 500", o.Topic, o.Partition, o.Offset)
		}
	}
}
