package clienttest

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

func contextWithCancelAfter(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	timer := time.AfterFunc(d, cancel)
	return ctx, func() { timer.Stop(); cancel() }
}

func testListOffset(t *testing.T, s *suite) {
	topic := s.topic(t, "times", 1)
	const t0 = 1_700_000_000_000
	at := func(ts ...int64) []batch.Record {
		out := records(0, len(ts), 0)
		for i := range out {
			out[i].Timestamp = t0 + ts[i]
		}
		return out
	}
	s.appendRecs(t, topic, 0, batch.None, at(1000, 2000, 3000), 0)
	s.appendRecs(t, topic, 0, batch.Gzip, at(4000, 5000), 3)
	for _, c := range []struct {
		ts   int64
		want int64
	}{
		{broker.Earliest, 0}, {broker.Latest, 5},
		{t0, 0}, {t0 + 1000, 0}, {t0 + 1500, 1}, {t0 + 3000, 2}, {t0 + 3500, 3},
		{t0 + 4500, 4}, {t0 + 5000, 4}, {t0 + 6000, -1},
	} {
		got, err := s.c.ListOffset(s.ctx, topic, 0, c.ts)
		if err != nil || got != c.want {
			t.Errorf("list offset at timestamp %d: %d, %v; want %d", c.ts, got, err, c.want)
		}
	}
	empty := s.topic(t, "times-empty", 1)
	for _, ts := range []int64{broker.Earliest, broker.Latest} {
		if got, err := s.c.ListOffset(s.ctx, empty, 0, ts); err != nil || got != 0 {
			t.Errorf("list offset %d of an empty partition: %d, %v; want 0", ts, got, err)
		}
	}
}

func testCommitOffsets(t *testing.T, s *suite) {
	topic := s.topic(t, "commits", 3)
	group, other := s.name("group"), s.name("other")
	tps := []broker.TopicPartition{{Topic: topic, Partition: 0}, {Topic: topic, Partition: 1}, {Topic: topic, Partition: 2}}
	check := func(group string, want ...broker.TopicPartitionOffset) {
		t.Helper()
		got, err := s.c.CommittedOffsets(s.ctx, group, tps)
		if err != nil {
			t.Fatalf("committed offsets of %s: %v", group, err)
		}
		if len(got) != len(want) {
			t.Fatalf("committed offsets of %s: %v, want %v", group, got, want)
		}
		for i := range want {
			if got[i].TopicPartition != want[i].TopicPartition || got[i].Offset != want[i].Offset ||
				(want[i].Offset >= 0 && got[i].Metadata != want[i].Metadata) {
				t.Fatalf("committed offsets of %s: %+v, want %+v", group, got, want)
			}
		}
	}
	tpo := func(p int32, off int64, md string) broker.TopicPartitionOffset {
		return broker.TopicPartitionOffset{TopicPartition: tps[p], Offset: off, Metadata: md}
	}
	check(group, tpo(0, -1, ""), tpo(1, -1, ""), tpo(2, -1, ""))
	if err := s.c.CommitOffsets(s.ctx, group, []broker.TopicPartitionOffset{tpo(0, 5, "m0"), tpo(1, 7, "")}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	check(group, tpo(0, 5, "m0"), tpo(1, 7, ""), tpo(2, -1, ""))
	if err := s.c.CommitOffsets(s.ctx, group, []broker.TopicPartitionOffset{tpo(0, 9, "again")}); err != nil {
		t.Fatalf("commit again: %v", err)
	}
	check(group, tpo(0, 9, "again"), tpo(1, 7, ""), tpo(2, -1, ""))
	check(other, tpo(0, -1, ""), tpo(1, -1, ""), tpo(2, -1, ""))
}
