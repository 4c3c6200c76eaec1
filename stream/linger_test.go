package stream_test

import (
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// TestOutputAppendedAfterLinger checks that output records reach their
// topic once their batch has lingered, long before the next commit: a
// quiet output must not wait a whole commit interval (Kafka Streams'
// producers linger 100 ms).
func TestOutputAppendedAfterLinger(t *testing.T) {
	e := newProcEnv(t)
	e.createTopic("in", 1)
	e.createTopic("out", 1)
	b := stream.NewBuilder("linger")
	stream.From(b, "in", serde.Int64, serde.String).
		Filter(func(_ int64, v string) bool { return v != "drop" }).
		To("out", nil, nil)
	app, stop := e.startWith(b, stream.Config{StateDir: t.TempDir(), CommitInterval: time.Hour})
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()

	e.produce("in", 0, []batch.Record{
		{Key: int64Bytes(1), Value: []byte("keep"), Timestamp: 1},
		{Key: int64Bytes(2), Value: []byte("drop"), Timestamp: 2},
		{Key: int64Bytes(3), Value: []byte("keep too"), Timestamp: 3},
	})
	e.eventually("the filtered records in out", func() bool { return len(e.readAll("out", 0)) == 2 })
	got := e.readAll("out", 0)
	if string(got[0].Value) != "keep" || string(got[1].Value) != "keep too" {
		t.Fatalf("out holds %q and %q", got[0].Value, got[1].Value)
	}
	// No commit happened: the records came out through the linger.
	if app.Stats().Commits != 0 {
		t.Fatalf("%d commits within an hour's commit interval", app.Stats().Commits)
	}
	offs, err := e.client.CommittedOffsets(e.ctx, "linger", []broker.TopicPartition{{Topic: "in", Partition: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if offs[0].Offset >= 0 {
		t.Fatalf("input committed at %d before any commit", offs[0].Offset)
	}
}

// TestIdleWorkerSendsAtOnce: a batch lingers only while its worker has
// more records to add; once the input is processed, the output goes out
// without waiting for the linger, however long (here an hour).
func TestIdleWorkerSendsAtOnce(t *testing.T) {
	e := newProcEnv(t)
	e.createTopic("in", 1)
	e.createTopic("out", 1)
	b := stream.NewBuilder("idle-send")
	stream.From(b, "in", serde.Int64, serde.String).To("out", nil, nil)
	app, stop := e.startWith(b, stream.Config{StateDir: t.TempDir(), CommitInterval: time.Hour, Linger: time.Hour})
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()
	e.produce("in", 0, []batch.Record{
		{Key: int64Bytes(1), Value: []byte("a"), Timestamp: 1},
		{Key: int64Bytes(2), Value: []byte("b"), Timestamp: 2},
	})
	e.eventually("the records in out", func() bool { return len(e.readAll("out", 0)) == 2 })
	if app.Stats().Commits != 0 {
		t.Fatalf("%d commits within an hour's commit interval", app.Stats().Commits)
	}
}
