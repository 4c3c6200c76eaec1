package scaleout

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/internal/testkafka"
)

// startBroker runs an embedded broker serving the Kafka protocol on
// 127.0.0.1 with a short minimum session timeout, creates the input topic
// and returns the broker and its address.
func startBroker(t *testing.T) (*broker.Broker, string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: logger,
		Groups: group.Config{InitialRebalanceDelay: -1, MinSessionTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	addr := testkafka.Serve(t, b, logger)
	if err := b.Embedded().CreateTopics(context.Background(), broker.TopicSpec{Name: inputTopic, Partitions: inputParts}); err != nil {
		t.Fatal(err)
	}
	return b, addr
}

// input is what was written to the input topic: the key at each offset of
// each partition, from which every expected count follows.
type input struct {
	mu   sync.Mutex
	keys [inputParts][]string
}

// appendRecords writes one batch of keys to partition p.
func (in *input) appendRecords(ctx context.Context, c broker.Client, p int32, keys []string) error {
	bl := batch.NewBuilder(batch.BuilderOptions{})
	now := time.Now().UnixMilli()
	for _, k := range keys {
		bl.Add(batch.Record{Key: []byte(k), Value: []byte("v"), Timestamp: now})
	}
	data, err := bl.Build(nil)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock() // held across the append: offsets follow the list
	base, err := c.Append(ctx, inputTopic, p, data)
	if err != nil {
		return err
	}
	if base != int64(len(in.keys[p])) {
		return fmt.Errorf("partition %d: appended at %d, expected %d", p, base, len(in.keys[p]))
	}
	in.keys[p] = append(in.keys[p], keys...)
	return nil
}

// backlog writes perPartition records with keys of their own to every
// partition, so that each record adds one changelog record.
func (in *input) backlog(t *testing.T, c broker.Client, perPartition int) {
	t.Helper()
	byPart := [inputParts][]string{}
	pad := strings.Repeat("-", backlogKeyBytes)
	for i := 0; ; i++ {
		k := "b" + strconv.Itoa(i) + pad
		p := partition.ForKey([]byte(k), inputParts)
		if len(byPart[p]) < perPartition {
			byPart[p] = append(byPart[p], k)
		}
		full := true
		for q := range byPart {
			full = full && len(byPart[q]) == perPartition
		}
		if full {
			break
		}
	}
	for p, keys := range byPart {
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			if err := in.appendRecords(context.Background(), c, int32(p), keys[:n]); err != nil {
				t.Fatal(err)
			}
			keys = keys[n:]
		}
	}
}

// produce writes records with keys from a fixed pool to every partition,
// perTick records each tick, until ctx ends.
func (in *input) produce(ctx context.Context, c broker.Client, perTick int, tick time.Duration) error {
	pool := [inputParts][]string{}
	for i := range 6000 {
		k := "k" + strconv.Itoa(i)
		p := partition.ForKey([]byte(k), inputParts)
		pool[p] = append(pool[p], k)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for p := range int32(inputParts) {
			keys := make([]string, perTick)
			for i := range keys {
				keys[i] = pool[p][rng.IntN(len(pool[p]))]
			}
			if err := in.appendRecords(context.Background(), c, p, keys); err != nil {
				return err
			}
		}
	}
}

func (in *input) ends() [inputParts]int64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out [inputParts]int64
	for p := range out {
		out[p] = int64(len(in.keys[p]))
	}
	return out
}
