package kafka

import (
	"reflect"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestPickVersion(t *testing.T) {
	for _, c := range []struct {
		want  int16
		kv    sarama.KafkaVersion
		since []sarama.KafkaVersion
		got   int16
	}{
		{9, sarama.MaxVersion, joinGroupSince, 8},   // capped by what sarama encodes
		{9, sarama.V2_4_0_0, joinGroupSince, 6},     // capped by the configured Kafka version
		{5, sarama.V3_2_0_0, joinGroupSince, 5},     // capped by the request
		{5, sarama.V0_8_2_0, syncGroupSince, 0},     // older than any version: 0
		{4, sarama.V2_3_0_0, heartbeatSince, 3},     // static membership's version
		{5, sarama.V2_4_0_0, leaveGroupSince, 4},    // batch leave, no reason
		{-1, sarama.MaxVersion, leaveGroupSince, 0}, // nonsense in: 0 out
		{5, sarama.V2_5_0_0, syncGroupSince, 5},     // protocol type and name
		{4, sarama.V2_0_0_0, heartbeatSince, 2},     // throttle time
		{8, sarama.V0_10_1_0, joinGroupSince, 1},    // rebalance timeout
	} {
		if got := pickVersion(c.want, c.kv, c.since); got != c.got {
			t.Errorf("pickVersion(%d, %v) = %d, want %d", c.want, c.kv, got, c.got)
		}
	}
}

func TestGroupConversions(t *testing.T) {
	inst := "instance-1"
	reason := "rejoin"
	q := kmsg.NewPtrJoinGroupRequest()
	q.Version = 9
	q.Group, q.SessionTimeoutMillis, q.RebalanceTimeoutMillis = "g", 1000, 5000
	q.MemberID, q.InstanceID, q.ProtocolType, q.Reason = "m-1", &inst, "consumer", &reason
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "eddy-stream", []byte{1, 2}
	q.Protocols = append(q.Protocols, p)
	s := joinToSarama(q, sarama.MaxVersion)
	if s.Version != 8 || s.GroupId != "g" || s.SessionTimeout != 1000 || s.RebalanceTimeout != 5000 || s.MemberId != "m-1" ||
		s.GroupInstanceId != &inst || s.ProtocolType != "consumer" || s.Reason != &reason ||
		len(s.OrderedGroupProtocols) != 1 || s.OrderedGroupProtocols[0].Name != "eddy-stream" {
		t.Fatalf("join request: %+v", s)
	}
	proto := "consumer"
	jr := joinFromSarama(&sarama.JoinGroupResponse{Version: 8, Err: sarama.ErrMemberIdRequired, GenerationId: 4,
		GroupProtocol: "eddy-stream", LeaderId: "m-2", MemberId: "m-1", ProtocolType: &proto,
		Members: []sarama.GroupMember{{MemberId: "m-2", GroupInstanceId: &inst, Metadata: []byte{9}}}})
	if jr.ErrorCode != int16(sarama.ErrMemberIdRequired) || jr.Generation != 4 || *jr.Protocol != "eddy-stream" ||
		jr.LeaderID != "m-2" || jr.MemberID != "m-1" || len(jr.Members) != 1 || jr.Members[0].MemberID != "m-2" ||
		*jr.Members[0].InstanceID != inst || !reflect.DeepEqual(jr.Members[0].ProtocolMetadata, []byte{9}) {
		t.Fatalf("join response: %+v", jr)
	}
	if jr := joinFromSarama(&sarama.JoinGroupResponse{}); jr.Protocol != nil {
		t.Fatalf("no protocol chosen became %q", *jr.Protocol)
	}

	l := kmsg.NewPtrLeaveGroupRequest()
	l.Version, l.Group = 5, "g"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = "m-1"
	l.Members = append(l.Members, lm)
	if old := leaveToSarama(l, sarama.V2_0_0_0); old.Version != 2 || old.MemberId != "m-1" || len(old.Members) != 0 {
		t.Fatalf("leave before version 3: %+v", old)
	}
	if batch := leaveToSarama(l, sarama.MaxVersion); batch.Version != 5 || len(batch.Members) != 1 || batch.Members[0].MemberId != "m-1" {
		t.Fatalf("leave: %+v", batch)
	}

	c := kmsg.NewPtrOffsetCommitRequest()
	c.Version, c.Group, c.Generation, c.MemberID = 8, "g", 4, "m-1"
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = "in"
	for _, part := range []int32{0, 1} {
		cp := kmsg.NewOffsetCommitRequestTopicPartition()
		cp.Partition, cp.Offset = part, 100+int64(part)
		ct.Partitions = append(ct.Partitions, cp)
	}
	c.Topics = append(c.Topics, ct)
	sc := commitToSarama(c, sarama.NewConfig())
	if sc.ConsumerGroupGeneration != 4 || sc.ConsumerID != "m-1" || sc.Version > 8 {
		t.Fatalf("commit request: %+v", sc)
	}
	// A partition the response leaves out is an error, not a success.
	cr := commitFromSarama(c, &sarama.OffsetCommitResponse{Errors: map[string]map[int32]sarama.KError{"in": {0: sarama.ErrIllegalGeneration}}})
	if len(cr.Topics) != 1 || cr.Topics[0].Partitions[0].ErrorCode != int16(sarama.ErrIllegalGeneration) ||
		cr.Topics[0].Partitions[1].ErrorCode != int16(sarama.ErrUnknown) {
		t.Fatalf("commit response: %+v", cr.Topics)
	}
}
