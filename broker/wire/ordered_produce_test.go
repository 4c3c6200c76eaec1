package wire

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// logCapture is a kgo.Logger that remembers lines mentioning a word.
type logCapture struct {
	mu   sync.Mutex
	word string
	hits []string
}

func (l *logCapture) Level() kgo.LogLevel { return kgo.LogLevelInfo }
func (l *logCapture) Log(_ kgo.LogLevel, msg string, kv ...any) {
	line := fmt.Sprint(msg, kv)
	if strings.Contains(line, l.word) {
		l.mu.Lock()
		l.hits = append(l.hits, line)
		l.mu.Unlock()
	}
}

// TestPipelinedIdempotentProduceIsAppliedInOrder sends many records through
// franz-go's idempotent producer, which keeps several produce requests in
// flight on one connection. Handlers run concurrently, so without the
// connection's ordered section the broker would apply requests out of
// order and answer OUT_OF_ORDER_SEQUENCE_NUMBER. The test checks that never
// happens and each partition holds exactly the records in send order.
func TestPipelinedIdempotentProduceIsAppliedInOrder(t *testing.T) {
	db := startDataBroker(t)
	ctx := context.Background()
	if err := db.b.CreateTopic(ctx, broker.TopicSpec{Name: "ordered", Partitions: 4}, false); err != nil {
		t.Fatal(err)
	}
	logs := &logCapture{word: "OUT_OF_ORDER"}
	cl, err := kgo.NewClient(kgo.SeedBrokers(db.addr), kgo.DefaultProduceTopic("ordered"),
		kgo.ProducerLinger(time.Millisecond), kgo.WithLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 60000
	var acked, failed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		r := &kgo.Record{Key: []byte(fmt.Sprint("k", i%97)), Value: []byte(fmt.Sprint(i))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
			}
			acked.Add(1)
			wg.Done()
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d produces failed", failed.Load())
	}
	if len(logs.hits) > 0 {
		t.Fatalf("the broker answered out of order sequence numbers (%d times), e.g. %s", len(logs.hits), logs.hits[0])
	}
	total := 0
	for p := int32(0); p < 4; p++ {
		part, _ := db.b.Partition("ordered", p)
		_, hw, _ := part.Offsets()
		data, _, err := part.Log().ReadBatches(0, 1<<30, nil)
		if err != nil {
			t.Fatal(err)
		}
		last := -1
		for len(data) > 0 {
			one, rest, _ := batch.Next(data)
			it, _ := batch.NewIterator(one)
			for it.Next() {
				var v int
				fmt.Sscan(string(it.Record().Value), &v)
				if v <= last {
					t.Fatalf("partition %d: record %d after %d: not in send order or duplicated", p, v, last)
				}
				last = v
				total++
			}
			data = rest
		}
		if hw == 0 {
			t.Fatalf("partition %d is empty", p)
		}
	}
	if total != n {
		t.Fatalf("partitions hold %d records, want %d", total, n)
	}
}

func TestOrderGate(t *testing.T) {
	g := newOrderGate()
	var order []int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := int64(19); i >= 0; i-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 7 {
				g.pass(i) // a request that finished without an ordered section
				return
			}
			g.wait(i)
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			g.pass(i)
			g.pass(i) // passing twice is harmless
		}()
	}
	wg.Wait()
	for j := 1; j < len(order); j++ {
		if order[j] <= order[j-1] {
			t.Fatalf("sections ran out of order: %v", order)
		}
	}
	if len(order) != 19 {
		t.Fatalf("ran %d sections, want 19", len(order))
	}
}
