package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/vfs"
)

func openBroker(t *testing.T, fs vfs.FS, dir string) *Broker {
	t.Helper()
	b, err := Open(Config{Dir: dir, FS: fs})
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	return b
}

func encode(t *testing.T, opts batch.BuilderOptions, values ...string) []byte {
	t.Helper()
	bl := batch.NewBuilder(opts)
	for i, v := range values {
		bl.Add(batch.Record{Key: []byte(fmt.Sprint("k", i)), Value: []byte(v), Timestamp: int64(1000 + i)})
	}
	out, err := bl.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func values(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for len(data) > 0 {
		one, rest, err := batch.Next(data)
		if err != nil {
			t.Fatal(err)
		}
		it, err := batch.NewIterator(one)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			out = append(out, string(it.Record().Value))
		}
		data = rest
	}
	return out
}

func TestTopicsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	b := openBroker(t, fs, "data")
	c := b.Embedded()
	if err := c.CreateTopics(ctx, TopicSpec{Name: "orders", Partitions: 3, Configs: map[string]string{"retention.ms": "1000000"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopic(ctx, TopicSpec{Name: "orders", Partitions: 3}, false); !errors.Is(err, ErrTopicExists) {
		t.Fatalf("second create: %v", err)
	}
	for p := int32(0); p < 3; p++ {
		if _, err := c.Append(ctx, "orders", p, encode(t, batch.BuilderOptions{}, fmt.Sprint("a", p), fmt.Sprint("b", p))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CommitOffsets(ctx, "g1", []TopicPartitionOffset{{TopicPartition{"orders", 1}, 2, "md"}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// A clean restart, then a crash (only what was synced survives).
	for _, fs2 := range []*vfs.MemFS{fs, fs.CrashClone(vfs.CrashOptions{})} {
		b2 := openBroker(t, fs2, "data")
		c2 := b2.Embedded()
		info, ok := b2.Topic("orders")
		if !ok || info.Partitions != 3 || info.Configs["retention.ms"] != "1000000" {
			t.Fatalf("topic after restart: %+v %v", info, ok)
		}
		res, err := c2.Fetch(ctx, "orders", 2, 0, 1<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := values(t, res.Batches); fmt.Sprint(got) != "[a2 b2]" || res.HighWatermark != 2 {
			t.Fatalf("data after restart: %v hw %d", got, res.HighWatermark)
		}
		offs, err := c2.CommittedOffsets(ctx, "g1", []TopicPartition{{"orders", 1}, {"orders", 0}})
		if err != nil || offs[0].Offset != 2 || offs[0].Metadata != "md" || offs[1].Offset != -1 {
			t.Fatalf("committed offsets after restart: %+v %v", offs, err)
		}
		b2.Close()
	}
}

func TestIdempotentProduce(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	b := openBroker(t, fs, "data")
	if err := b.CreateTopic(ctx, TopicSpec{Name: "t", Partitions: 1}, false); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := b.InitProducerID(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := b.Partition("t", 0)
	send := func(seq int32, epoch int16, vals ...string) (ProduceResult, error) {
		return p.Produce(ctx, encode(t, batch.BuilderOptions{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, vals...), true)
	}
	r0, err := send(0, epoch, "a", "b")
	if err != nil || r0.BaseOffset != 0 {
		t.Fatalf("first: %+v %v", r0, err)
	}
	r1, err := send(2, epoch, "c")
	if err != nil || r1.BaseOffset != 2 {
		t.Fatalf("second: %+v %v", r1, err)
	}
	// A retry of the first batch gets its original offset and is not written again.
	dup, err := send(0, epoch, "a", "b")
	if err != nil || !dup.Duplicate || dup.BaseOffset != 0 {
		t.Fatalf("retry: %+v %v", dup, err)
	}
	if _, err := send(5, epoch, "gap"); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := send(3, epoch-1, "old"); !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("stale epoch: %v", err)
	}
	if _, _, end := p.Offsets(); end != 3 {
		t.Fatalf("end offset %d, want 3", end)
	}
	b.Close()
	// After a crash the sequence state comes back from the log.
	b = openBroker(t, fs.CrashClone(vfs.CrashOptions{}), "data")
	defer b.Close()
	p, _ = b.Partition("t", 0)
	dup, err = send(2, epoch, "c")
	if err != nil || !dup.Duplicate || dup.BaseOffset != 2 {
		t.Fatalf("retry after restart: %+v %v", dup, err)
	}
	if r, err := send(3, epoch, "d"); err != nil || r.BaseOffset != 3 {
		t.Fatalf("next after restart: %+v %v", r, err)
	}
	pid2, _, err := b.InitProducerID(ctx, "")
	if err != nil || pid2 <= pid {
		t.Fatalf("producer id after restart %d, before %d: %v", pid2, pid, err)
	}
}

func TestTopicValidationAndConfigs(t *testing.T) {
	ctx := context.Background()
	b := openBroker(t, vfs.NewMem(), "data")
	defer b.Close()
	bad := []TopicSpec{
		{Name: "has space", Partitions: 1},
		{Name: "..", Partitions: 1},
		{Name: "ok", Partitions: 1, ReplicationFactor: 3},
		{Name: "ok", Partitions: 1, Configs: map[string]string{"no.such.config": "1"}},
		{Name: "ok", Partitions: 1, Configs: map[string]string{"cleanup.policy": "shred"}},
		{Name: "ok", Partitions: 1, Configs: map[string]string{"retention.ms": "soon"}},
	}
	want := []error{ErrInvalidTopic, ErrInvalidTopic, ErrInvalidReplication, ErrInvalidConfig, ErrInvalidConfig, ErrInvalidConfig}
	for i, spec := range bad {
		if err := b.CreateTopic(ctx, spec, false); !errors.Is(err, want[i]) {
			t.Errorf("%+v: got %v, want %v", spec, err, want[i])
		}
	}
	if err := b.CreateTopic(ctx, TopicSpec{Name: "changelog", Partitions: 2, Configs: map[string]string{"cleanup.policy": "compact"}}, false); err != nil {
		t.Fatal(err)
	}
	p, _ := b.Partition("changelog", 0)
	bl := batch.NewBuilder(batch.BuilderOptions{})
	bl.Add(batch.Record{Value: []byte("no key")})
	data, _ := bl.Build(nil)
	if _, err := p.Produce(ctx, data, true); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("keyless record on a compacted topic: %v", err)
	}
	if err := b.AlterTopicConfigs(ctx, "changelog", []ConfigOp{{Name: "cleanup.policy", Value: "delete"}}, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Produce(ctx, data, true); err != nil {
		t.Fatalf("keyless record after switching to delete: %v", err)
	}
	entries, err := b.TopicConfigs("changelog")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name == "cleanup.policy" && (e.Value != "delete" || e.IsDefault) {
			t.Fatalf("cleanup.policy entry %+v", e)
		}
		if e.Name == "retention.ms" && (!e.IsDefault || e.Value != "604800000") {
			t.Fatalf("retention.ms entry %+v", e)
		}
	}
	if err := b.DeleteTopic(ctx, "changelog"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Partition("changelog", 0); !errors.Is(err, ErrUnknownTopic) {
		t.Fatalf("partition of deleted topic: %v", err)
	}
	if err := b.DeleteTopic(ctx, offsetsTopic); err == nil {
		t.Fatal("deleted the internal offsets topic")
	}
}

func TestDataDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, vfs.OS(), dir)
	defer b.Close()
	if _, err := Open(Config{Dir: dir}); !errors.Is(err, vfs.ErrLocked) {
		t.Fatalf("second broker on the same directory: %v", err)
	}
}

func TestFetchWaitsForData(t *testing.T) {
	ctx := context.Background()
	b := openBroker(t, vfs.NewMem(), "data")
	defer b.Close()
	c := b.Embedded()
	if err := c.CreateTopics(ctx, TopicSpec{Name: "t", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		c.Append(ctx, "t", 0, encode(t, batch.BuilderOptions{}, "late"))
	}()
	start := time.Now()
	res, err := c.Fetch(ctx, "t", 0, 0, 1<<20, 30*time.Second)
	if err != nil || fmt.Sprint(values(t, res.Batches)) != "[late]" {
		t.Fatalf("long poll: %v %v", values(t, res.Batches), err)
	}
	if time.Since(start) > 15*time.Second {
		t.Fatalf("long poll waited for its timeout instead of the data")
	}
	res, err = c.Fetch(ctx, "t", 0, 1, 1<<20, 20*time.Millisecond)
	if err != nil || len(res.Batches) != 0 {
		t.Fatalf("empty long poll: %d bytes, %v", len(res.Batches), err)
	}
}

func TestListOffsetMaxTimestampFindsTheRecord(t *testing.T) {
	ctx := context.Background()
	b := openBroker(t, vfs.NewMem(), "data")
	defer b.Close()
	if err := b.CreateTopic(ctx, TopicSpec{Name: "t", Partitions: 1}, false); err != nil {
		t.Fatal(err)
	}
	p, _ := b.Partition("t", 0)
	bl := batch.NewBuilder(batch.BuilderOptions{})
	for _, ts := range []int64{10, 50, 20} {
		bl.Add(batch.Record{Value: []byte("v"), Timestamp: ts})
	}
	data, _ := bl.Build(nil)
	if _, err := p.Produce(ctx, data, true); err != nil {
		t.Fatal(err)
	}
	bl.Reset()
	bl.Add(batch.Record{Value: []byte("w"), Timestamp: 30})
	data, _ = bl.Build(nil)
	if _, err := p.Produce(ctx, data, true); err != nil {
		t.Fatal(err)
	}
	off, ts, err := p.ListOffset(MaxTimestamp)
	if err != nil || off != 1 || ts != 50 {
		t.Fatalf("max timestamp: offset %d ts %d (%v), want offset 1 ts 50", off, ts, err)
	}
}
