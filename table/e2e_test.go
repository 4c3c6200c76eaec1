package table_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

type click struct {
	Page   string `json:"page"`
	Device string `json:"device"`
}

func TestClickCountEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	br := clienttest.OpenBroker(t)
	client := br.Embedded()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "clicks", Partitions: 3}, broker.TopicSpec{Name: "page-views", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	js := serde.JSON[click]()
	for p := int32(0); p < 3; p++ {
		b := batch.NewBuilder(batch.BuilderOptions{})
		for i := 0; i < 500; i++ {
			c := click{Page: fmt.Sprintf("/p%d", (i*7+int(p))%13), Device: []string{"mobile", "desktop"}[i%2]}
			if c.Device == "mobile" {
				want[c.Page]++
			}
			v, _ := js.Serialize("clicks", c)
			b.Add(batch.Record{Key: []byte(fmt.Sprint("user", i)), Value: v, Timestamp: int64(1000 + i)})
		}
		data, _ := b.Build(nil)
		if _, err := client.Append(ctx, "clicks", p, data); err != nil {
			t.Fatal(err)
		}
	}

	b := stream.NewBuilder("click-counter")
	clicks := stream.From(b, "clicks", serde.String, js)
	mobile := clicks.Filter(func(_ string, c click) bool { return c.Device == "mobile" })
	byPage := stream.GroupBy(mobile, func(_ string, c click) string { return c.Page }, serde.String, stream.Named("by-page"))
	views := table.Count(byPage, table.Named("views-per-page"))
	views.ToStream().To("page-views", serde.String, serde.Int64)
	t.Log(b.Describe())

	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: t.TempDir(), CommitInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx) }()
	<-app.Ready()
	deadline := time.Now().Add(20 * time.Second)
	for page, n := range want {
		for {
			got, ok, err := table.Lookup(app, views, page)
			if err != nil {
				t.Fatal(err)
			}
			if ok && got == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("page %s: count %d (found %v), want %d", page, got, ok, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The output topic's last value per page equals the count.
	last := map[string]int64{}
	for p := int32(0); p < 2; p++ {
		for off := int64(0); ; {
			res, err := client.Fetch(ctx, "page-views", p, off, 1<<20, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Batches) == 0 {
				break
			}
			for data := res.Batches; len(data) > 0; {
				one, rest, _ := batch.Next(data)
				it, _ := batch.NewIterator(one)
				for it.Next() {
					r := it.Record()
					n, _ := serde.Int64.Deserialize("", r.Value)
					last[string(r.Key)] = n
					off = r.Offset + 1
				}
				data = rest
			}
		}
	}
	if fmt.Sprint(last) != fmt.Sprint(want) {
		t.Fatalf("page-views last values %v, want %v", last, want)
	}
}
