package kafka

import (
	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The Kafka release that introduced each version of the group APIs, index
// = version: a request goes at the newest version at most the kmsg
// request's and supported by Config.Version.
var (
	joinGroupSince = []sarama.KafkaVersion{sarama.V0_10_0_0, sarama.V0_10_1_0, sarama.V0_11_0_0, sarama.V2_0_0_0,
		sarama.V2_2_0_0, sarama.V2_3_0_0, sarama.V2_4_0_0, sarama.V2_5_0_0, sarama.V3_2_0_0}
	syncGroupSince = []sarama.KafkaVersion{sarama.V0_9_0_0, sarama.V0_11_0_0, sarama.V2_0_0_0, sarama.V2_3_0_0,
		sarama.V2_4_0_0, sarama.V2_5_0_0}
	heartbeatSince = []sarama.KafkaVersion{sarama.V0_8_2_0, sarama.V0_11_0_0, sarama.V2_0_0_0, sarama.V2_3_0_0,
		sarama.V2_4_0_0}
	leaveGroupSince = []sarama.KafkaVersion{sarama.V0_9_0_0, sarama.V0_11_0_0, sarama.V2_0_0_0, sarama.V2_4_0_0,
		sarama.V2_4_0_0, sarama.V3_2_0_0}
)

// pickVersion returns the newest version at most want that kv supports,
// given the release each version appeared in.
func pickVersion(want int16, kv sarama.KafkaVersion, since []sarama.KafkaVersion) int16 {
	v := min(int(want), len(since)-1)
	for v > 0 && !kv.IsAtLeast(since[v]) {
		v--
	}
	return int16(max(v, 0))
}

func joinToSarama(q *kmsg.JoinGroupRequest, kv sarama.KafkaVersion) *sarama.JoinGroupRequest {
	r := &sarama.JoinGroupRequest{
		Version:          pickVersion(q.Version, kv, joinGroupSince),
		GroupId:          q.Group,
		SessionTimeout:   q.SessionTimeoutMillis,
		RebalanceTimeout: q.RebalanceTimeoutMillis,
		MemberId:         q.MemberID,
		GroupInstanceId:  q.InstanceID,
		ProtocolType:     q.ProtocolType,
		Reason:           q.Reason,
	}
	for _, p := range q.Protocols {
		r.OrderedGroupProtocols = append(r.OrderedGroupProtocols, &sarama.GroupProtocol{Name: p.Name, Metadata: p.Metadata})
	}
	return r
}

func joinFromSarama(s *sarama.JoinGroupResponse) *kmsg.JoinGroupResponse {
	r := kmsg.NewPtrJoinGroupResponse()
	r.Version = s.Version
	r.ThrottleMillis = s.ThrottleTime
	r.ErrorCode = int16(s.Err)
	r.Generation = s.GenerationId
	if s.GroupProtocol != "" {
		proto := s.GroupProtocol
		r.Protocol = &proto
	}
	r.ProtocolType = s.ProtocolType
	r.LeaderID = s.LeaderId
	r.MemberID = s.MemberId
	for _, m := range s.Members {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID, jm.InstanceID, jm.ProtocolMetadata = m.MemberId, m.GroupInstanceId, m.Metadata
		r.Members = append(r.Members, jm)
	}
	return r
}

func syncToSarama(q *kmsg.SyncGroupRequest, kv sarama.KafkaVersion) *sarama.SyncGroupRequest {
	r := &sarama.SyncGroupRequest{
		Version:         pickVersion(q.Version, kv, syncGroupSince),
		GroupId:         q.Group,
		GenerationId:    q.Generation,
		MemberId:        q.MemberID,
		GroupInstanceId: q.InstanceID,
		ProtocolType:    q.ProtocolType,
		ProtocolName:    q.Protocol,
	}
	for _, a := range q.GroupAssignment {
		r.AddGroupAssignment(a.MemberID, a.MemberAssignment)
	}
	return r
}

func syncFromSarama(s *sarama.SyncGroupResponse) *kmsg.SyncGroupResponse {
	r := kmsg.NewPtrSyncGroupResponse()
	r.Version = s.Version
	r.ThrottleMillis = s.ThrottleTime
	r.ErrorCode = int16(s.Err)
	r.ProtocolType = s.ProtocolType
	r.Protocol = s.ProtocolName
	r.MemberAssignment = s.MemberAssignment
	return r
}

func heartbeatToSarama(q *kmsg.HeartbeatRequest, kv sarama.KafkaVersion) *sarama.HeartbeatRequest {
	return &sarama.HeartbeatRequest{
		Version:         pickVersion(q.Version, kv, heartbeatSince),
		GroupId:         q.Group,
		GenerationId:    q.Generation,
		MemberId:        q.MemberID,
		GroupInstanceId: q.InstanceID,
	}
}

func leaveToSarama(q *kmsg.LeaveGroupRequest, kv sarama.KafkaVersion) *sarama.LeaveGroupRequest {
	r := &sarama.LeaveGroupRequest{Version: pickVersion(q.Version, kv, leaveGroupSince), GroupId: q.Group}
	if r.Version < 3 {
		// Before version 3 a request names one member by its id alone.
		if len(q.Members) > 0 {
			r.MemberId = q.Members[0].MemberID
		} else {
			r.MemberId = q.MemberID
		}
		return r
	}
	for _, m := range q.Members {
		r.Members = append(r.Members, sarama.MemberIdentity{MemberId: m.MemberID, GroupInstanceId: m.InstanceID, Reason: m.Reason})
	}
	return r
}

func leaveFromSarama(s *sarama.LeaveGroupResponse) *kmsg.LeaveGroupResponse {
	r := kmsg.NewPtrLeaveGroupResponse()
	r.Version = s.Version
	r.ThrottleMillis = s.ThrottleTime
	r.ErrorCode = int16(s.Err)
	for _, m := range s.Members {
		lm := kmsg.NewLeaveGroupResponseMember()
		lm.MemberID, lm.InstanceID, lm.ErrorCode = m.MemberId, m.GroupInstanceId, int16(m.Err)
		r.Members = append(r.Members, lm)
	}
	return r
}

// commitToSarama converts an offset commit made in a generation's name;
// the version is sarama's newest for the config, capped by the request's.
func commitToSarama(q *kmsg.OffsetCommitRequest, conf *sarama.Config) *sarama.OffsetCommitRequest {
	r := sarama.NewOffsetCommitRequest(conf, q.Group)
	r.Version = min(r.Version, q.Version)
	r.ConsumerGroupGeneration = q.Generation
	r.ConsumerID = q.MemberID
	r.GroupInstanceId = q.InstanceID
	for _, t := range q.Topics {
		for _, p := range t.Partitions {
			md := ""
			if p.Metadata != nil {
				md = *p.Metadata
			}
			r.AddBlockWithLeaderEpoch(t.Topic, p.Partition, p.Offset, p.LeaderEpoch, sarama.ReceiveTime, md)
		}
	}
	return r
}

// commitFromSarama answers every partition of the request, in its order;
// one the response lacks gets UNKNOWN_SERVER_ERROR rather than a silent
// success.
func commitFromSarama(q *kmsg.OffsetCommitRequest, s *sarama.OffsetCommitResponse) *kmsg.OffsetCommitResponse {
	r := kmsg.NewPtrOffsetCommitResponse()
	r.Version = s.Version
	r.ThrottleMillis = s.ThrottleTimeMs
	for _, t := range q.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			code, ok := s.Errors[t.Topic][p.Partition]
			if ok {
				rp.ErrorCode = int16(code)
			} else {
				rp.ErrorCode = int16(sarama.ErrUnknown)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		r.Topics = append(r.Topics, rt)
	}
	return r
}
