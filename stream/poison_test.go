package stream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// poisonInput writes 10 good records, an undecodable value at offset 3 and a
// value that makes the user function panic at offset 7, to one partition.
func poisonInput(t *testing.T) (*broker.Broker, broker.Client) {
	t.Helper()
	br := clienttest.OpenBroker(t)
	c := br.Embedded()
	ctx := context.Background()
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: "numbers", Partitions: 1}, broker.TopicSpec{Name: "doubled", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	b := batch.NewBuilder(batch.BuilderOptions{})
	for i := 0; i < 10; i++ {
		v, _ := serde.Int64.Serialize("", int64(i))
		switch i {
		case 3:
			v = []byte("not eight bytes")
		case 7:
			v, _ = serde.Int64.Serialize("", -1) // the mapper panics on it
		}
		b.Add(batch.Record{Key: []byte(fmt.Sprint("k", i)), Value: v, Timestamp: int64(i)})
	}
	data, _ := b.Build(nil)
	if _, err := c.Append(ctx, "numbers", 0, data); err != nil {
		t.Fatal(err)
	}
	return br, c
}

func doubler(appID string) *stream.Builder {
	b := stream.NewBuilder(appID)
	in := stream.From(b, "numbers", serde.String, serde.Int64)
	stream.MapValues(in, func(_ string, v int64) int64 {
		if v < 0 {
			panic(fmt.Sprintf("negative input %d", v))
		}
		return 2 * v
	}, stream.Serdes[string, int64](nil, serde.Int64)).To("doubled", serde.String, serde.Int64)
	return b
}

func readAll(t *testing.T, c broker.Client, topic string) []batch.Record {
	t.Helper()
	var out []batch.Record
	for off := int64(0); ; {
		res, err := c.Fetch(context.Background(), topic, 0, off, 1<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return out
		}
		for data := res.Batches; len(data) > 0; {
			one, rest, _ := batch.Next(data)
			it, _ := batch.NewIterator(one)
			for it.Next() {
				r := it.Record()
				r.Key, r.Value = append([]byte(nil), r.Key...), append([]byte(nil), r.Value...)
				r.Headers = append([]batch.RecordHeader(nil), r.Headers...)
				out = append(out, r)
				off = r.Offset + 1
			}
			data = rest
		}
	}
}

func TestPoisonPillsGoToTheDeadLetterTopic(t *testing.T) {
	_, c := poisonInput(t)
	app, err := stream.NewApp(doubler("doubler-dlq"), stream.Config{
		Client: c, StateDir: t.TempDir(), CommitInterval: 20 * time.Millisecond,
		OnDeserializationError: stream.DeadLetterTo("numbers-dlq"),
		OnProcessingError:      stream.DeadLetterTo("numbers-dlq"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(readAll(t, c, "doubled")) < 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("app under the dead-letter policy stopped with %v", err)
	}
	var doubled []string
	for _, r := range readAll(t, c, "doubled") {
		v, _ := serde.Int64.Deserialize("", r.Value)
		doubled = append(doubled, fmt.Sprintf("%s=%d", r.Key, v))
	}
	if got := strings.Join(doubled, " "); got != "k0=0 k1=2 k2=4 k4=8 k5=10 k6=12 k8=16 k9=18" {
		t.Fatalf("doubled: %s", got)
	}
	dlq := readAll(t, c, "numbers-dlq")
	if len(dlq) != 2 {
		t.Fatalf("dead-letter topic holds %d records, want 2", len(dlq))
	}
	for i, want := range []struct{ key, kind, offset, errPart string }{
		{"k3", "deserialization", "3", "int64 needs 8 bytes"},
		{"k7", "processing", "7", "panic: negative input -1"},
	} {
		r := dlq[i]
		h := map[string]string{}
		for _, x := range r.Headers {
			h[x.Key] = string(x.Value)
		}
		if string(r.Key) != want.key || h["eddy.error.kind"] != want.kind || h["eddy.topic"] != "numbers" ||
			h["eddy.partition"] != "0" || h["eddy.offset"] != want.offset || !strings.Contains(h["eddy.error"], want.errPart) {
			t.Errorf("dead letter %d: key %s headers %v", i, r.Key, h)
		}
	}
	if string(dlq[0].Value) != "not eight bytes" {
		t.Errorf("dead letter keeps the original bytes: %q", dlq[0].Value)
	}
	if s := app.Stats(); s.BadRecords != 2 {
		t.Errorf("bad records counted: %d", s.BadRecords)
	}
}

func TestPoisonPillStopsTheAppUnderFail(t *testing.T) {
	for _, tc := range []struct {
		name, offset, errPart string
		cfg                   func(*stream.Config)
	}{
		{"deserialization", "3", "int64 needs 8 bytes", func(*stream.Config) {}},
		{"panic", "7", "negative input", func(c *stream.Config) { c.OnDeserializationError = stream.LogAndContinue() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := poisonInput(t)
			cfg := stream.Config{Client: c, StateDir: t.TempDir(), CommitInterval: 20 * time.Millisecond}
			tc.cfg(&cfg)
			app, err := stream.NewApp(doubler("doubler-fail"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = app.Run(ctx)
			var pe *stream.ProcessingError
			if !errors.As(err, &pe) || pe.Topic != "numbers" || pe.Partition != 0 || fmt.Sprint(pe.Offset) != tc.offset || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("app stopped with %v; want an error naming numbers-0 offset %s", err, tc.offset)
			}
			if !strings.Contains(err.Error(), "numbers-0 at offset "+tc.offset) {
				t.Fatalf("error text %q does not name the record", err)
			}
		})
	}
}
