package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// handleMetadata describes the single broker and the requested topics. Every
// partition is led by this node at epoch 0 with itself as the only replica.
//
// Unknown topics are created when the request allows it (v4+ says so; older
// versions always imply it, as they did in Kafka) and the broker has
// auto-creation on. Creation is synchronous, so a created topic is described
// straight away instead of with Kafka's LEADER_NOT_AVAILABLE.
func (h *brokerHandlers) handleMetadata(ctx context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.MetadataRequest)
	if !ok {
		return nil, errUnexpectedRequest("Metadata", kreq)
	}
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	nodeID := h.b.NodeID()
	brokerEntry := kmsg.NewMetadataResponseBroker()
	brokerEntry.NodeID, brokerEntry.Host, brokerEntry.Port = nodeID, h.host, h.port
	resp.Brokers = []kmsg.MetadataResponseBroker{brokerEntry}
	clusterID := h.b.ClusterID()
	resp.ClusterID = &clusterID
	resp.ControllerID = nodeID
	if req.IncludeClusterAuthorizedOperations {
		resp.AuthorizedOperations = clusterOperations
	}

	// v0 has no way to ask for no topics: an empty list means all of them.
	if req.Topics == nil || req.Version == 0 && len(req.Topics) == 0 {
		for _, info := range h.b.Topics() {
			resp.Topics = append(resp.Topics, h.describeTopic(info, req.IncludeTopicAuthorizedOperations))
		}
		return Message(resp), nil
	}

	autoCreate := req.Version < 4 || req.AllowAutoTopicCreation
	var idNames map[[16]byte]string
	seen := make(map[string]bool, len(req.Topics))
	for _, rt := range req.Topics {
		if rt.Topic == nil {
			if idNames == nil {
				idNames = h.namesByTopicID()
			}
			name, known := idNames[rt.TopicID]
			if !known {
				t := kmsg.NewMetadataResponseTopic()
				t.TopicID = rt.TopicID
				t.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, t)
				continue
			}
			rt.Topic = &name
		}
		name := *rt.Topic
		if seen[name] {
			continue
		}
		seen[name] = true
		info, err := h.lookupOrCreateTopic(ctx, name, autoCreate)
		if err != nil {
			t := kmsg.NewMetadataResponseTopic()
			t.Topic = kmsg.StringPtr(name)
			t.ErrorCode = h.dataErrorCode(err, "Metadata", name, -1)
			resp.Topics = append(resp.Topics, t)
			continue
		}
		resp.Topics = append(resp.Topics, h.describeTopic(info, req.IncludeTopicAuthorizedOperations))
	}
	return Message(resp), nil
}

// lookupOrCreateTopic returns an existing topic, or creates it when allowed.
// A name Kafka would never accept is reported as invalid either way, and a
// missing topic that may not be created as unknown.
func (h *brokerHandlers) lookupOrCreateTopic(ctx context.Context, name string, autoCreate bool) (broker.TopicInfo, error) {
	if info, ok := h.b.Topic(name); ok {
		return info, nil
	}
	// A validate-only creation checks the name without side effects.
	err := h.b.CreateTopic(ctx, broker.TopicSpec{Name: name, Partitions: -1, ReplicationFactor: -1}, true)
	if err != nil && broker.ErrorCode(err) == kerr.InvalidTopicException.Code {
		return broker.TopicInfo{}, err
	}
	if !autoCreate {
		return broker.TopicInfo{}, broker.ErrUnknownTopic
	}
	if err := h.b.EnsureTopic(ctx, name); err != nil {
		return broker.TopicInfo{}, err
	}
	info, ok := h.b.Topic(name)
	if !ok { // deleted again in between
		return broker.TopicInfo{}, broker.ErrUnknownTopic
	}
	return info, nil
}

func (h *brokerHandlers) describeTopic(info broker.TopicInfo, withOperations bool) kmsg.MetadataResponseTopic {
	nodeID := h.b.NodeID()
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = kmsg.StringPtr(info.Name)
	t.TopicID = info.ID
	t.IsInternal = info.Internal
	if withOperations {
		t.AuthorizedOperations = topicOperations
	}
	t.Partitions = make([]kmsg.MetadataResponseTopicPartition, info.Partitions)
	for i := range t.Partitions {
		p := kmsg.NewMetadataResponseTopicPartition()
		p.Partition = int32(i)
		p.Leader = nodeID
		p.LeaderEpoch = leaderEpoch
		p.Replicas = []int32{nodeID}
		p.ISR = []int32{nodeID}
		p.OfflineReplicas = []int32{}
		t.Partitions[i] = p
	}
	return t
}
