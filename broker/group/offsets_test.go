package group

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type commitOf struct {
	topic     string
	partition int32
	offset    int64
	epoch     int32
	metadata  string
}

func commitReq(group, memberID string, generation int32, commits ...commitOf) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group = group
	req.MemberID = memberID
	req.Generation = generation
	for _, c := range commits {
		t := kmsg.NewOffsetCommitRequestTopic()
		t.Topic = c.topic
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition = c.partition
		p.Offset = c.offset
		p.LeaderEpoch = c.epoch
		md := c.metadata
		p.Metadata = &md
		t.Partitions = append(t.Partitions, p)
		req.Topics = append(req.Topics, t)
	}
	return req
}

// commitCode commits and returns the single partition's error code.
func commitCode(t *testing.T, h *harness, req *kmsg.OffsetCommitRequest) int16 {
	t.Helper()
	resp := h.c.OffsetCommit(context.Background(), req)
	if len(resp.Topics) != len(req.Topics) {
		t.Fatalf("%d topics answered for %d committed", len(resp.Topics), len(req.Topics))
	}
	code := resp.Topics[0].Partitions[0].ErrorCode
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			if p.ErrorCode != code {
				t.Fatalf("partitions of one commit answered differently: %+v", resp.Topics)
			}
		}
	}
	return code
}

func fetchV7(group string, topics map[string][]int32) *kmsg.OffsetFetchRequest {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 7
	req.Group = group
	if topics == nil {
		return req
	}
	req.Topics = []kmsg.OffsetFetchRequestTopic{}
	for name, ps := range topics {
		t := kmsg.NewOffsetFetchRequestTopic()
		t.Topic = name
		t.Partitions = ps
		req.Topics = append(req.Topics, t)
	}
	return req
}

func TestOffsetCommitGenerationChecks(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "g", "a", "b")

	wantCode(t, "member commit", commitCode(t, h, commitReq("g", ids[0], gen, commitOf{"t", 0, 42, 5, "m"})), nil)
	wantCode(t, "stale generation", commitCode(t, h, commitReq("g", ids[1], gen-1, commitOf{"t", 1, 1, 0, ""})), kerr.IllegalGeneration)
	wantCode(t, "unknown member", commitCode(t, h, commitReq("g", "who", gen, commitOf{"t", 1, 1, 0, ""})), kerr.UnknownMemberID)
	wantCode(t, "simple commit into a live group", commitCode(t, h, commitReq("g", "", -1, commitOf{"t", 1, 1, 0, ""})), kerr.UnknownMemberID)
	wantCode(t, "member of an unknown group", commitCode(t, h, commitReq("other", "x", 3, commitOf{"t", 1, 1, 0, ""})), kerr.IllegalGeneration)
	if s := h.state("other"); s != "absent" {
		t.Fatalf("refused commit created group other (%s)", s)
	}

	off, md, ok := h.c.Committed("g", "t", 0)
	if !ok || off != 42 || md != "m" {
		t.Fatalf("Committed = %d %q %v", off, md, ok)
	}
	if _, _, ok := h.c.Committed("g", "t", 1); ok {
		t.Fatal("refused commits were stored")
	}

	// Members of the current generation may commit while the group
	// prepares a rebalance (consumers commit before they rejoin), but not
	// between the join answer and the assignment.
	rejoin := h.joinAsync("b", joinReq("g", ids[1], "b-changed"))
	h.waitAwaitingJoin("g", 1)
	wantCode(t, "commit while preparing", commitCode(t, h, commitReq("g", ids[0], gen, commitOf{"t", 0, 43, 5, ""})), nil)
	h.c.JoinGroup(clientCtx("a"), joinReq("g", ids[0], "a"))
	recvJoin(t, rejoin)
	wantCode(t, "commit while completing", commitCode(t, h, commitReq("g", ids[0], gen+1, commitOf{"t", 0, 44, 5, ""})), kerr.RebalanceInProgress)
}

func TestSimpleCommitsAndFetch(t *testing.T) {
	h := newHarness(t, Config{})
	req := commitReq("standalone", "", -1,
		commitOf{"orders", 0, 100, 7, "meta"},
		commitOf{"orders", 2, 200, -1, ""},
		commitOf{"audit", 0, 5, 1, ""})
	resp := h.c.OffsetCommit(context.Background(), req)
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			wantCode(t, "simple commit "+rt.Topic, p.ErrorCode, nil)
		}
	}
	if s := h.state("standalone"); s != "Empty" {
		t.Fatalf("simple commits left the group %s", s)
	}

	fetched := h.c.OffsetFetch(context.Background(), fetchV7("standalone", map[string][]int32{"orders": {0, 1, 2}}))
	wantCode(t, "fetch", fetched.ErrorCode, nil)
	ps := fetched.Topics[0].Partitions
	if ps[0].Offset != 100 || ps[0].LeaderEpoch != 7 || *ps[0].Metadata != "meta" {
		t.Fatalf("partition 0: %+v", ps[0])
	}
	if ps[1].Offset != -1 || ps[1].LeaderEpoch != -1 || *ps[1].Metadata != "" || ps[1].ErrorCode != 0 {
		t.Fatalf("uncommitted partition 1: %+v", ps[1])
	}
	if ps[2].Offset != 200 {
		t.Fatalf("partition 2: %+v", ps[2])
	}

	all := h.c.OffsetFetch(context.Background(), fetchV7("standalone", nil))
	if len(all.Topics) != 2 || all.Topics[0].Topic != "audit" || len(all.Topics[1].Partitions) != 2 {
		t.Fatalf("null topics fetched %+v", all.Topics)
	}

	// v4 has no leader epoch; an unknown group has no offsets and no error.
	old := fetchV7("standalone", map[string][]int32{"orders": {0}})
	old.Version = 4
	if p := h.c.OffsetFetch(context.Background(), old).Topics[0].Partitions[0]; p.Offset != 100 || p.LeaderEpoch != -1 {
		t.Fatalf("v4 fetch: %+v", p)
	}
	none := h.c.OffsetFetch(context.Background(), fetchV7("nobody", map[string][]int32{"orders": {0}}))
	if none.ErrorCode != 0 || none.Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("fetch of unknown group: %+v", none)
	}
}

func TestOffsetFetchManyGroupsV8(t *testing.T) {
	h := newHarness(t, Config{})
	commitCode(t, h, commitReq("g1", "", -1, commitOf{"t", 0, 10, 0, ""}))
	commitCode(t, h, commitReq("g2", "", -1, commitOf{"t", 0, 20, 0, ""}, commitOf{"u", 3, 30, 0, ""}))

	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	g1 := kmsg.NewOffsetFetchRequestGroup()
	g1.Group = "g1"
	gt := kmsg.NewOffsetFetchRequestGroupTopic()
	gt.Topic, gt.Partitions = "t", []int32{0, 1}
	g1.Topics = []kmsg.OffsetFetchRequestGroupTopic{gt}
	g2 := kmsg.NewOffsetFetchRequestGroup()
	g2.Group = "g2" // null topics: everything
	req.Groups = []kmsg.OffsetFetchRequestGroup{g1, g2}

	resp := h.c.OffsetFetch(context.Background(), req)
	if len(resp.Groups) != 2 || resp.Topics != nil {
		t.Fatalf("v8 answer: %+v", resp)
	}
	r1 := resp.Groups[0].Topics[0].Partitions
	if r1[0].Offset != 10 || r1[1].Offset != -1 {
		t.Fatalf("g1: %+v", r1)
	}
	r2 := resp.Groups[1].Topics
	if len(r2) != 2 || r2[0].Partitions[0].Offset != 20 || r2[1].Topic != "u" || r2[1].Partitions[0].Offset != 30 {
		t.Fatalf("g2: %+v", r2)
	}
}

func TestOffsetCommitJournalFailureChangesNothing(t *testing.T) {
	h := newHarness(t, Config{})
	wantCode(t, "first commit", commitCode(t, h, commitReq("g", "", -1, commitOf{"t", 0, 1, 0, ""})), nil)
	before := len(h.journal.all())

	h.journal.setFail(errors.New("disk on fire"))
	wantCode(t, "commit with broken journal", commitCode(t, h, commitReq("g", "", -1, commitOf{"t", 0, 2, 0, ""})), kerr.CoordinatorNotAvailable)
	wantCode(t, "new group with broken journal", commitCode(t, h, commitReq("fresh", "", -1, commitOf{"t", 0, 2, 0, ""})), kerr.CoordinatorNotAvailable)
	h.journal.setFail(kerr.NotCoordinator)
	wantCode(t, "journal's own Kafka error", commitCode(t, h, commitReq("g", "", -1, commitOf{"t", 0, 3, 0, ""})), kerr.NotCoordinator)

	if off, _, _ := h.c.Committed("g", "t", 0); off != 1 {
		t.Fatalf("offset is %d after failed commits, want 1", off)
	}
	if s := h.state("fresh"); s != "absent" {
		t.Fatalf("failed commit left group fresh behind (%s)", s)
	}
	if n := len(h.journal.all()); n != before {
		t.Fatalf("journal grew from %d to %d records", before, n)
	}
}

func TestOffsetCommitRecordsAreKafkaFormat(t *testing.T) {
	h := newHarness(t, Config{})
	commitCode(t, h, commitReq("g", "", -1, commitOf{"t", 3, 77, 9, "hello"}))
	rec := h.journal.all()[0]
	k := kmsg.NewOffsetCommitKey()
	if err := k.ReadFrom(rec.Key); err != nil || k.Version != 1 || k.Group != "g" || k.Topic != "t" || k.Partition != 3 {
		t.Fatalf("key %+v: %v", k, err)
	}
	v := kmsg.NewOffsetCommitValue()
	if err := v.ReadFrom(rec.Value); err != nil || v.Version != 3 || v.Offset != 77 || v.LeaderEpoch != 9 || v.Metadata != "hello" {
		t.Fatalf("value %+v: %v", v, err)
	}
	if v.CommitTimestamp != h.clock.Now().UnixMilli() {
		t.Fatalf("commit timestamp %d, want %d", v.CommitTimestamp, h.clock.Now().UnixMilli())
	}
}

func TestOffsetCommitPerPartitionErrors(t *testing.T) {
	h := newHarness(t, Config{OffsetMetadataMaxBytes: 8, Topics: staticTopics{"known": {1}}})
	req := commitReq("g", "", -1,
		commitOf{"known", 0, 1, 0, "short"},
		commitOf{"known", 1, 1, 0, strings.Repeat("x", 9)},
		commitOf{"unknown", 0, 1, 0, ""})
	resp := h.c.OffsetCommit(context.Background(), req)
	wantCode(t, "fine partition", resp.Topics[0].Partitions[0].ErrorCode, nil)
	wantCode(t, "large metadata", resp.Topics[1].Partitions[0].ErrorCode, kerr.OffsetMetadataTooLarge)
	wantCode(t, "unknown topic", resp.Topics[2].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)

	// v10 addresses topics by ID.
	v10 := commitReq("g", "", -1, commitOf{"", 0, 9, 0, ""}, commitOf{"", 0, 9, 0, ""})
	v10.Version = 10
	v10.Topics[0].TopicID = [16]byte{1}
	v10.Topics[1].TopicID = [16]byte{2}
	resp = h.c.OffsetCommit(context.Background(), v10)
	wantCode(t, "v10 known id", resp.Topics[0].Partitions[0].ErrorCode, nil)
	wantCode(t, "v10 unknown id", resp.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicID)
	if resp.Topics[0].TopicID != ([16]byte{1}) || resp.Topics[0].Topic != "" {
		t.Fatalf("v10 answer names topic %q id %v", resp.Topics[0].Topic, resp.Topics[0].TopicID)
	}
	if off, _, _ := h.c.Committed("g", "known", 0); off != 9 {
		t.Fatalf("v10 commit stored %d", off)
	}
}

// staticTopics maps topic names to one-byte IDs.
type staticTopics map[string][1]byte

func (s staticTopics) TopicID(name string) ([16]byte, bool) {
	b, ok := s[name]
	return [16]byte{b[0]}, ok
}

func (s staticTopics) TopicName(id [16]byte) (string, bool) {
	for name, b := range s {
		if id == ([16]byte{b[0]}) {
			return name, true
		}
	}
	return "", false
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t, Config{})
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{"subscribed"}
	req := joinReq("g", "", "a")
	req.Version = 3
	req.Protocols[0].Metadata = meta.AppendTo(nil)
	join := h.joinAsync("a", req)
	h.waitAwaitingJoin("g", 1)
	h.clock.Advance(testDelay)
	r := recvJoin(t, join)
	h.c.SyncGroup(context.Background(), syncReq("g", r.MemberID, r.Generation, nil))
	commitCode(t, h, commitReq("g", r.MemberID, r.Generation, commitOf{"subscribed", 0, 1, 0, ""}))
	commitCode(t, h, commitReq("g", r.MemberID, r.Generation, commitOf{"old", 0, 1, 0, ""}))

	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group = "g"
	for _, name := range []string{"subscribed", "old"} {
		dt := kmsg.NewOffsetDeleteRequestTopic()
		dt.Topic = name
		dt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}}
		del.Topics = append(del.Topics, dt)
	}
	resp := h.c.OffsetDelete(context.Background(), del)
	wantCode(t, "offset delete", resp.ErrorCode, nil)
	wantCode(t, "subscribed topic", resp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic)
	wantCode(t, "unsubscribed topic", resp.Topics[1].Partitions[0].ErrorCode, nil)
	if _, _, ok := h.c.Committed("g", "old", 0); ok {
		t.Fatal("deleted offset still there")
	}
	if _, _, ok := h.c.Committed("g", "subscribed", 0); !ok {
		t.Fatal("offset of a subscribed topic was deleted")
	}
	recs := h.journal.all()
	if last := recs[len(recs)-1]; last.Value != nil {
		t.Fatal("offset delete did not journal a tombstone")
	}
	del.Group = "missing"
	wantCode(t, "unknown group", h.c.OffsetDelete(context.Background(), del).ErrorCode, kerr.GroupIDNotFound)
}

func TestOffsetsRetention(t *testing.T) {
	h := newHarness(t, Config{OffsetsRetention: time.Hour, OffsetsRetentionCheck: 10 * time.Minute})
	commitCode(t, h, commitReq("simple", "", -1, commitOf{"t", 0, 1, 0, ""}))
	h.clock.Advance(30 * time.Minute)
	commitCode(t, h, commitReq("simple", "", -1, commitOf{"t", 1, 1, 0, ""}))

	ids, gen := stableGroup(h, "consumers", "a")
	commitCode(t, h, commitReq("consumers", ids[0], gen, commitOf{"t", 0, 1, 0, ""}))
	h.c.LeaveGroup(context.Background(), leaveReq("consumers", 1, ids[0]))

	// Each simple offset expires an hour after its own commit.
	h.clock.Advance(31 * time.Minute)
	if _, _, ok := h.c.Committed("simple", "t", 0); ok {
		t.Fatal("simple offset outlived its retention")
	}
	if _, _, ok := h.c.Committed("simple", "t", 1); !ok {
		t.Fatal("younger simple offset expired early")
	}
	if _, _, ok := h.c.Committed("consumers", "t", 0); !ok {
		t.Fatal("consumer group offset expired before an hour of emptiness")
	}

	// Once all offsets are gone, so is the group, with a tombstone.
	h.clock.Advance(40 * time.Minute)
	for _, g := range []string{"simple", "consumers"} {
		if s := h.state(g); s != "absent" {
			t.Fatalf("group %s is %s after its offsets expired", g, s)
		}
	}
	recs := h.journal.all()
	last := recs[len(recs)-1]
	if last.Value != nil {
		t.Fatal("expiry did not end with a tombstone")
	}
}

func TestCommitSurvivesClientHangingUp(t *testing.T) {
	h := newHarness(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp := h.c.OffsetCommit(ctx, commitReq("g", "", -1, commitOf{"t", 0, 5, 0, ""}))
	wantCode(t, "commit from a gone client", resp.Topics[0].Partitions[0].ErrorCode, nil)
	if off, _, _ := h.c.Committed("g", "t", 0); off != 5 || len(h.journal.all()) != 1 {
		t.Fatalf("offset %d with %d journal records", off, len(h.journal.all()))
	}
}
