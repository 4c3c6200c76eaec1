package stream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// TestRepartitionSurvivesPowerLoss: records cross a repartition topic,
// which the engine reads before it is durable (broker.WrittenFetcher) and
// awaits durable only when it commits. Power losses at random moments —
// the broker's files as of their last fsync, the app's state directory
// gone — must lose no record: no committed position may be past what
// survived of its partition (the records written again there would be
// skipped), and every input value reaches the output. Every fsync takes
// a few milliseconds, so that a power loss often finds records written
// but not durable.
func TestRepartitionSurvivesPowerLoss(t *testing.T) {
	const (
		n     = 20_000
		parts = 4
	)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fs := vfs.NewMem()
	open := func() (*broker.Broker, *procEnv) {
		slow := vfs.NewFaultFS(fs, func(op vfs.Op, _ string) error {
			if op == vfs.OpSync {
				time.Sleep(3 * time.Millisecond)
			}
			return nil
		})
		br, err := broker.Open(broker.Config{Dir: "/broker", FS: slow})
		if err != nil {
			t.Fatal(err)
		}
		return br, &procEnv{t: t, ctx: ctx, client: br.Embedded()}
	}
	br, e := open()
	e.createTopic("in", parts)
	e.createTopic("out", parts)
	for p := range int32(parts) {
		var recs []batch.Record
		for i := int(p); i < n; i += parts {
			recs = append(recs, batch.Record{Key: int64Bytes(int64(i)), Value: fmt.Appendf(nil, "v%05d", i), Timestamp: int64(i)})
			if len(recs) == 500 {
				e.produce("in", p, recs)
				recs = nil
			}
		}
		e.produce("in", p, recs)
	}
	build := func() *stream.Builder {
		b := stream.NewBuilder("powerloss")
		// Keyed by value: every record moves to another partition.
		byValue := stream.SelectKey(stream.From(b, "in", serde.Int64, serde.String), func(_ int64, v string) string { return v },
			stream.Serdes(serde.String, serde.String))
		byValue.Repartition(stream.Named("by-value")).To("out", nil, nil)
		return b
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for crash := range 4 {
		_, stop := e.start(build(), t.TempDir())
		time.Sleep(time.Duration(10+rng.IntN(120)) * time.Millisecond)
		crashed := fs.CrashClone(vfs.CrashOptions{})
		if err := stop(); err != nil {
			t.Fatalf("run %d: %v", crash, err)
		}
		br.Close()
		fs = crashed
		br, e = open()
		for _, ti := range br.Topics() {
			if !strings.HasSuffix(ti.Name, "-repartition") {
				continue
			}
			for p := range ti.Partitions {
				end, err := e.client.ListOffset(ctx, ti.Name, p, broker.Latest)
				if err != nil {
					t.Fatal(err)
				}
				offs, err := e.client.CommittedOffsets(ctx, "powerloss", []broker.TopicPartition{{Topic: ti.Name, Partition: p}})
				if err != nil {
					t.Fatal(err)
				}
				if offs[0].Offset > end {
					t.Fatalf("after power loss %d: %s-%d committed at %d, past its end %d", crash, ti.Name, p, offs[0].Offset, end)
				}
			}
		}
	}
	defer br.Close()
	_, stop := e.start(build(), t.TempDir())
	seen := map[string]int{}
	e.eventually("every input value in out", func() bool {
		clear(seen)
		for p := range int32(parts) {
			for _, r := range e.readAll("out", p) {
				seen[string(r.Value)]++
			}
		}
		return len(seen) == n
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if seen[fmt.Sprintf("v%05d", i)] == 0 {
			t.Fatalf("v%05d lost", i)
		}
	}
}

// TestCommitWaitsForRepartitionDurability: the tasks read a repartition
// topic's records as soon as they are written, but do not commit a
// position past them until they are durable. Records are written to the
// repartition topic while its fsyncs are held up: they go through to the
// output, yet the position after them is committed only once the fsyncs
// are let through.
func TestCommitWaitsForRepartitionDurability(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var held atomic.Bool
	release := make(chan struct{})
	fs := vfs.NewFaultFS(vfs.NewMem(), func(op vfs.Op, name string) error {
		if op == vfs.OpSync && strings.Contains(name, "-repartition") && held.Load() {
			<-release
		}
		return nil
	})
	br, err := broker.Open(broker.Config{Dir: "/broker", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	defer func() {
		if held.Swap(false) {
			close(release)
		}
	}()
	e := &procEnv{t: t, ctx: ctx, client: br.Embedded()}
	e.createTopic("in", 1)
	e.createTopic("out", 1)
	b := stream.NewBuilder("durable")
	stream.From(b, "in", serde.String, serde.String).Repartition(stream.Named("hop")).To("out", nil, nil)
	_, stop := e.start(b, t.TempDir())
	defer stop()
	const topic = "durable-hop-repartition"
	if _, ok := br.Topic(topic); !ok {
		t.Fatalf("no topic %s", topic)
	}

	held.Store(true)
	bb := batch.NewBuilder(batch.BuilderOptions{})
	for i := range 10 {
		bb.Add(batch.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", i), Timestamp: int64(i)})
	}
	data, err := bb.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.(broker.DeferredAppender).AppendNoWait(ctx, topic, 0, data); err != nil {
		t.Fatal(err)
	}
	e.eventually("the repartitioned records in out", func() bool { return len(e.readAll("out", 0)) == 10 })
	committed := func() int64 {
		offs, err := e.client.CommittedOffsets(ctx, "durable", []broker.TopicPartition{{Topic: topic, Partition: 0}})
		if err != nil {
			t.Fatal(err)
		}
		return offs[0].Offset
	}
	time.Sleep(200 * time.Millisecond) // ten commit intervals
	if got := committed(); got >= 10 {
		t.Fatalf("position %d committed while the records before it were not durable", got)
	}
	held.Store(false)
	close(release)
	e.eventually("the position after the records committed", func() bool { return committed() == 10 })
}
