package engine

import (
	"errors"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/internal/topology"
)

func TestSubscriptionRoundTrip(t *testing.T) {
	sub := subscription{
		ProcessID:   "3f1c",
		Endpoint:    "host-1:8080",
		PrevActive:  []topology.TaskID{{Subtopology: 0, Partition: 3}, {Subtopology: 2, Partition: 11}},
		PrevStandby: []topology.TaskID{{Subtopology: 1, Partition: 0}},
		Offsets:     map[topology.TaskID]int64{{Subtopology: 0, Partition: 3}: runningActiveOffset, {Subtopology: 1, Partition: 0}: 1 << 40, {Subtopology: 5, Partition: 7}: 0},
	}
	data := encodeSubscription([]string{"clicks", "app-by-page-repartition"}, sub)
	got, err := decodeSubscription(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sub) {
		t.Fatalf("decoded %+v, want %+v", got, sub)
	}
	// Kafka's consumer protocol around it: the topics are readable by any
	// tool (and by the coordinator's offset retention).
	var meta kmsg.ConsumerMemberMetadata
	if err := meta.ReadFrom(data); err != nil || !reflect.DeepEqual(meta.Topics, []string{"clicks", "app-by-page-repartition"}) {
		t.Fatalf("consumer metadata: %v, %v", meta.Topics, err)
	}
	// Every truncation fails cleanly.
	for n := range len(data) {
		if _, err := decodeSubscription(data[:n]); !errors.Is(err, errUserData) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

func TestAssignmentRoundTrip(t *testing.T) {
	a := memberAssignment{
		Active:  []topology.TaskID{{Subtopology: 0, Partition: 1}},
		Standby: []topology.TaskID{{Subtopology: 0, Partition: 2}},
		Instances: []Instance{
			{ProcessID: "p1", Endpoint: "a:1", Active: []topology.TaskID{{Subtopology: 0, Partition: 1}}, Standby: []topology.TaskID{{Subtopology: 0, Partition: 2}}},
			{ProcessID: "p2", Endpoint: "", Active: []topology.TaskID{{Subtopology: 0, Partition: 2}}},
		},
	}
	data := encodeAssignment(map[string][]int32{"in": {1}, "other": {1}}, a)
	got, err := decodeAssignment(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("decoded %+v, want %+v", got, a)
	}
	var ca kmsg.ConsumerMemberAssignment
	if err := ca.ReadFrom(data); err != nil || len(ca.Topics) != 2 || ca.Topics[0].Topic != "in" || ca.Topics[0].Partitions[0] != 1 {
		t.Fatalf("consumer assignment: %+v, %v", ca.Topics, err)
	}
	for n := range len(data) {
		if _, err := decodeAssignment(data[:n]); !errors.Is(err, errUserData) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
}

// A later version appends fields: this version reads its own and ignores
// the rest. Version 0 is refused, and so is a count larger than the bytes.
func TestUserDataVersions(t *testing.T) {
	wrap := func(user []byte) []byte {
		ca := kmsg.NewConsumerMemberAssignment()
		ca.UserData = user
		return ca.AppendTo(nil)
	}
	var b wbuf
	b.uvarint(2)
	b.tasks([]topology.TaskID{{Subtopology: 1, Partition: 4}})
	b.tasks(nil)
	b.uvarint(0)
	b.str("a field of version 2")
	got, err := decodeAssignment(wrap(b))
	if err != nil || len(got.Active) != 1 || got.Active[0] != (topology.TaskID{Subtopology: 1, Partition: 4}) {
		t.Fatalf("version 2: %+v, %v", got, err)
	}
	var v0 wbuf
	v0.uvarint(0)
	v0.tasks(nil)
	v0.tasks(nil)
	v0.uvarint(0)
	if _, err := decodeAssignment(wrap(v0)); !errors.Is(err, errUserData) {
		t.Fatalf("version 0: %v", err)
	}
	var huge wbuf
	huge.uvarint(1)
	huge.uvarint(1 << 40) // a count no input holds
	if _, err := decodeAssignment(wrap(huge)); !errors.Is(err, errUserData) {
		t.Fatalf("huge count: %v", err)
	}
}

func FuzzDecodeGroupMetadata(f *testing.F) {
	f.Add(encodeSubscription([]string{"t"}, subscription{ProcessID: "p", Offsets: map[topology.TaskID]int64{{Partition: 1}: 9}}))
	f.Add(encodeAssignment(map[string][]int32{"t": {0}}, memberAssignment{Active: []topology.TaskID{{}}, Instances: []Instance{{ProcessID: "p"}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if sub, err := decodeSubscription(data); err == nil {
			if _, err := decodeSubscription(encodeSubscription(nil, sub)); err != nil {
				t.Fatalf("re-encoded subscription does not decode: %v", err)
			}
		}
		if a, err := decodeAssignment(data); err == nil {
			if _, err := decodeAssignment(encodeAssignment(nil, a)); err != nil {
				t.Fatalf("re-encoded assignment does not decode: %v", err)
			}
		}
	})
}
