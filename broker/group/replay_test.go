package group

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// restart builds a new coordinator from everything h journaled.
func restart(t *testing.T, h *harness) *harness {
	t.Helper()
	h.c.Close()
	next := newHarness(t, Config{})
	next.clock.Advance(h.clock.Now().Sub(next.clock.Now()))
	for _, r := range h.journal.all() {
		if err := next.c.Replay(r.Key, r.Value); err != nil {
			t.Fatalf("Replay: %v", err)
		}
	}
	next.journal.records = h.journal.all()
	return next
}

func allOffsets(h *harness, group string) []kmsg.OffsetFetchResponseTopic {
	return h.c.OffsetFetch(context.Background(), fetchV7(group, nil)).Topics
}

func TestReplayRestoresOffsetsAndGroups(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := stableGroup(h, "live", "a", "b")
	commitCode(t, h, commitReq("live", ids[0], gen, commitOf{"t", 0, 10, 3, "x"}, commitOf{"t", 1, 11, 3, ""}))
	commitCode(t, h, commitReq("live", ids[0], gen, commitOf{"t", 0, 12, 4, "y"}))
	commitCode(t, h, commitReq("simple", "", -1, commitOf{"u", 5, 50, -1, "s"}))
	commitCode(t, h, commitReq("doomed", "", -1, commitOf{"u", 0, 1, 0, ""}))
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"doomed"}
	h.c.DeleteGroups(context.Background(), del)
	left, _ := stableGroup(h, "left", "c")
	h.c.LeaveGroup(context.Background(), leaveReq("left", 1, left[0]))

	wantLists := listGroups(h, 4)
	wantOffsets := map[string][]kmsg.OffsetFetchResponseTopic{}
	for name := range wantLists {
		wantOffsets[name] = allOffsets(h, name)
	}

	r := restart(t, h)
	got := listGroups(r, 4)
	if len(got) != 3 {
		t.Fatalf("after replay: %v", got)
	}
	for name, g := range wantLists {
		if got[name].ProtocolType != g.ProtocolType {
			t.Fatalf("group %s protocol type %q, want %q", name, got[name].ProtocolType, g.ProtocolType)
		}
		if got[name].GroupState != "Empty" {
			t.Fatalf("group %s replayed as %s, want Empty", name, got[name].GroupState)
		}
		if o := allOffsets(r, name); !reflect.DeepEqual(o, wantOffsets[name]) {
			t.Fatalf("group %s offsets\n got %+v\nwant %+v", name, o, wantOffsets[name])
		}
	}
	if _, ok := got["doomed"]; ok {
		t.Fatal("deleted group came back")
	}

	// Generations continue where they stopped: "live" was at gen, "left"
	// had become empty at generation 2.
	r.inspect("left", func(g *group) {
		if g.generation != 2 {
			t.Errorf("group left at generation %d, want 2", g.generation)
		}
	})
	rejoin := r.joinAsync("a", joinReq("live", r.memberID("live", "a"), "a"))
	r.waitAwaitingJoin("live", 1)
	r.clock.Advance(testDelay)
	if resp := recvJoin(t, rejoin); resp.ErrorCode != 0 || resp.Generation != gen+1 {
		t.Fatalf("first join after restart: %+v, want generation %d", resp, gen+1)
	}
	// The replayed coordinator runs on: committing and replaying again
	// keeps working.
	commitCode(t, r, commitReq("simple", "", -1, commitOf{"u", 5, 51, -1, ""}))
	if off, _, _ := restart(t, r).c.Committed("simple", "u", 5); off != 51 {
		t.Fatalf("second restart: offset %d", off)
	}
}

func TestReplayRejectsCorruptRecords(t *testing.T) {
	h := newHarness(t, Config{})
	if err := h.c.Replay([]byte{0}, nil); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("short key: %v", err)
	}
	key := offsetRecordKey("g", topicPartition{"t", 0})
	if err := h.c.Replay(key, []byte{0, 3, 1}); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("truncated value: %v", err)
	}
	if err := h.c.Replay(groupRecordKey("g")[:3], []byte{1}); !errors.Is(err, ErrCorruptRecord) {
		t.Fatalf("truncated group key: %v", err)
	}
	// Record types Kafka added later (KIP-848 and others) are skipped.
	if err := h.c.Replay([]byte{0, 9, 1, 2}, []byte{1}); err != nil {
		t.Fatalf("unknown record type: %v", err)
	}
	if s := h.state("g"); s != "absent" {
		t.Fatalf("corrupt records created a group (%s)", s)
	}
}

func TestReplayReadsOlderValueVersions(t *testing.T) {
	h := newHarness(t, Config{})
	v := kmsg.NewOffsetCommitValue()
	v.Version = 0
	v.Offset = 33
	v.Metadata = "old"
	key := kmsg.NewOffsetCommitKey()
	key.Version = 0
	key.Group, key.Topic, key.Partition = "g", "t", 2
	if err := h.c.Replay(key.AppendTo(nil), v.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	p := h.c.OffsetFetch(context.Background(), fetchV7("g", map[string][]int32{"t": {2}})).Topics[0].Partitions[0]
	if p.Offset != 33 || p.LeaderEpoch != -1 || *p.Metadata != "old" {
		t.Fatalf("v0 record replayed as %+v", p)
	}
}
