package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/internal/topology"
)

// The group protocol of eddy's instances. Members join with protocol type
// "consumer" and protocol assignProtocol, and wrap eddy's own fields in
// Kafka's consumer protocol (ConsumerMemberMetadata, ConsumerMemberAssignment:
// the subscribed input topics, the assigned input partitions, and eddy's
// bytes as UserData), so that Kafka's tools describe the group as they
// would a Kafka Streams app's: which instance reads which partition.
//
// UserData of a subscription, version 1 (varints as encoding/binary's;
// a string is a uvarint length and its bytes; a task list is a uvarint
// count and, per task, uvarint sub-topology and uvarint partition):
//
//	uvarint  version (1)
//	string   process id (random per run of an engine)
//	string   endpoint (Config.ApplicationServer, "" if none)
//	tasks    active tasks this instance ran in the last generation
//	tasks    standby tasks this instance ran in the last generation
//	uvarint  count, then per task: sub-topology, partition, varint offset
//	         (how far the instance's local state of the task is: the sum
//	         of the changelog offsets in its checkpoint, or -2 for a task
//	         it runs now, which is as far as it gets)
//
// UserData of an assignment, version 1:
//
//	uvarint  version (1)
//	tasks    this member's active tasks
//	tasks    this member's standby tasks
//	uvarint  instance count, then per instance: string process id, string
//	         endpoint, tasks active, tasks standby (every member of the
//	         generation, so an instance can say who owns any partition)
//
// Later versions only append fields: a reader takes the fields it knows
// and ignores the rest, so a leader and members of different versions
// understand each other as far as the older one goes. Version 0 and
// undecodable bytes are refused.
const (
	assignProtocol      = "eddy-stream"
	consumerProtocol    = "consumer"
	userDataVersion     = 1
	runningActiveOffset = -2
)

// errUserData reports group metadata that does not decode.
var errUserData = errors.New("engine: undecodable group metadata")

// subscription is what a member tells the leader when it joins.
type subscription struct {
	ProcessID   string
	Endpoint    string
	PrevActive  []topology.TaskID
	PrevStandby []topology.TaskID
	// Offsets says, per task whose state the instance holds locally, how
	// far that state is (see the format above).
	Offsets map[topology.TaskID]int64
}

// memberAssignment is what the leader gives each member.
type memberAssignment struct {
	Active    []topology.TaskID
	Standby   []topology.TaskID
	Instances []Instance
}

// Instance is one instance of the app in a generation: its endpoint for
// interactive queries and the tasks it runs.
type Instance struct {
	ProcessID string
	// Endpoint is its Config.ApplicationServer ("" if it has none).
	Endpoint string
	Active   []topology.TaskID
	Standby  []topology.TaskID
}

// encodeSubscription returns a member's join metadata: Kafka's consumer
// subscription to topics carrying sub as UserData.
func encodeSubscription(topics []string, sub subscription) []byte {
	var b wbuf
	b.uvarint(userDataVersion)
	b.str(sub.ProcessID)
	b.str(sub.Endpoint)
	b.tasks(sub.PrevActive)
	b.tasks(sub.PrevStandby)
	ids := make([]topology.TaskID, 0, len(sub.Offsets))
	for id := range sub.Offsets {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareTasks)
	b.uvarint(uint64(len(ids)))
	for _, id := range ids {
		b.task(id)
		b.varint(sub.Offsets[id])
	}
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = topics
	meta.UserData = b
	return meta.AppendTo(nil)
}

// decodeSubscription reads a member's join metadata.
func decodeSubscription(data []byte) (subscription, error) {
	var meta kmsg.ConsumerMemberMetadata
	if err := meta.ReadFrom(data); err != nil {
		return subscription{}, fmt.Errorf("%w: consumer subscription: %w", errUserData, err)
	}
	r := rbuf{data: meta.UserData}
	r.version()
	sub := subscription{ProcessID: r.str(), Endpoint: r.str(), PrevActive: r.tasks(), PrevStandby: r.tasks(), Offsets: map[topology.TaskID]int64{}}
	n := r.count(3)
	for range n {
		id := r.task()
		sub.Offsets[id] = r.varint()
	}
	if r.err != nil {
		return subscription{}, fmt.Errorf("%w: subscription: %w", errUserData, r.err)
	}
	return sub, nil
}

// encodeAssignment returns a member's assignment: Kafka's consumer
// assignment of the input partitions of its active tasks, carrying a as
// UserData.
func encodeAssignment(partitions map[string][]int32, a memberAssignment) []byte {
	var b wbuf
	b.uvarint(userDataVersion)
	b.tasks(a.Active)
	b.tasks(a.Standby)
	b.uvarint(uint64(len(a.Instances)))
	for _, in := range a.Instances {
		b.str(in.ProcessID)
		b.str(in.Endpoint)
		b.tasks(in.Active)
		b.tasks(in.Standby)
	}
	ca := kmsg.NewConsumerMemberAssignment()
	topics := make([]string, 0, len(partitions))
	for t := range partitions {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, t := range topics {
		at := kmsg.NewConsumerMemberAssignmentTopic()
		at.Topic, at.Partitions = t, partitions[t]
		ca.Topics = append(ca.Topics, at)
	}
	ca.UserData = b
	return ca.AppendTo(nil)
}

// decodeAssignment reads a member's assignment.
func decodeAssignment(data []byte) (memberAssignment, error) {
	var ca kmsg.ConsumerMemberAssignment
	if err := ca.ReadFrom(data); err != nil {
		return memberAssignment{}, fmt.Errorf("%w: consumer assignment: %w", errUserData, err)
	}
	r := rbuf{data: ca.UserData}
	r.version()
	a := memberAssignment{Active: r.tasks(), Standby: r.tasks()}
	n := r.count(4)
	for range n {
		a.Instances = append(a.Instances, Instance{ProcessID: r.str(), Endpoint: r.str(), Active: r.tasks(), Standby: r.tasks()})
	}
	if r.err != nil {
		return memberAssignment{}, fmt.Errorf("%w: assignment: %w", errUserData, r.err)
	}
	return a, nil
}

func compareTasks(a, b topology.TaskID) int {
	if a.Subtopology != b.Subtopology {
		return a.Subtopology - b.Subtopology
	}
	return int(a.Partition - b.Partition)
}

// wbuf appends the format's fields.
type wbuf []byte

func (b *wbuf) uvarint(v uint64) { *b = binary.AppendUvarint(*b, v) }
func (b *wbuf) varint(v int64)   { *b = binary.AppendVarint(*b, v) }
func (b *wbuf) str(s string)     { b.uvarint(uint64(len(s))); *b = append(*b, s...) }

func (b *wbuf) task(id topology.TaskID) {
	b.uvarint(uint64(id.Subtopology))
	b.uvarint(uint64(id.Partition))
}

func (b *wbuf) tasks(ids []topology.TaskID) {
	b.uvarint(uint64(len(ids)))
	for _, id := range ids {
		b.task(id)
	}
}

// rbuf reads the format's fields; the first error sticks and later reads
// return zero values.
type rbuf struct {
	data []byte
	err  error
}

func (r *rbuf) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed %s", what)
	}
}

func (r *rbuf) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.data)
	if n <= 0 {
		r.fail("uvarint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

func (r *rbuf) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.data)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.data = r.data[n:]
	return v
}

// version reads the version field: any version from 1 on, whose fields
// start with version 1's.
func (r *rbuf) version() {
	if v := r.uvarint(); r.err == nil && v < 1 {
		r.err = fmt.Errorf("version %d (want 1 or later)", v)
	}
}

// count reads an item count, refusing one that the remaining bytes cannot
// hold at minBytes per item, so that a bad count allocates nothing.
func (r *rbuf) count(minBytes int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.data)/minBytes) {
		r.fail("count")
		return 0
	}
	return int(n)
}

func (r *rbuf) str() string {
	n := r.count(1)
	if r.err != nil {
		return ""
	}
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

func (r *rbuf) task() topology.TaskID {
	sub, p := r.uvarint(), r.uvarint()
	if r.err == nil && (sub > 1<<30 || p > 1<<31-1) {
		r.fail("task id")
	}
	return topology.TaskID{Subtopology: int(sub), Partition: int32(p)}
}

func (r *rbuf) tasks() []topology.TaskID {
	n := r.count(2)
	if n == 0 {
		return nil
	}
	ids := make([]topology.TaskID, 0, n)
	for range n {
		ids = append(ids, r.task())
	}
	return ids
}
