package wire

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

func metadataTopics(names ...string) []kmsg.MetadataRequestTopic {
	topics := []kmsg.MetadataRequestTopic{}
	for _, n := range names {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(n)
		topics = append(topics, rt)
	}
	return topics
}

func metadataTopicByName(t *testing.T, resp *kmsg.MetadataResponse, name string) kmsg.MetadataResponseTopic {
	t.Helper()
	for _, rt := range resp.Topics {
		if rt.Topic != nil && *rt.Topic == name {
			return rt
		}
	}
	t.Fatalf("topic %s missing from metadata response %+v", name, resp.Topics)
	return kmsg.MetadataResponseTopic{}
}

func TestMetadataDescribesBrokerAndTopicsAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "orders", 3)
	info, _ := d.b.Topic("orders")
	for v := int16(0); v <= 13; v++ {
		cl := d.clientAt(t, metadataKey, v)
		req := kmsg.NewPtrMetadataRequest()
		req.Version = v
		req.Topics = metadataTopics("orders")
		resp := dataRequest[*kmsg.MetadataResponse](t, cl, req)
		if resp.Version != v {
			t.Fatalf("answered v%d, want v%d", resp.Version, v)
		}
		if len(resp.Brokers) != 1 {
			t.Fatalf("v%d: brokers %+v, want one", v, resp.Brokers)
		}
		br := resp.Brokers[0]
		if br.NodeID != d.b.NodeID() || br.Host != d.host || br.Port != d.port || br.Rack != nil {
			t.Errorf("v%d: broker %+v, want node %d at %s:%d without rack", v, br, d.b.NodeID(), d.host, d.port)
		}
		if v >= 1 && resp.ControllerID != d.b.NodeID() {
			t.Errorf("v%d: controller %d", v, resp.ControllerID)
		}
		if v >= 2 && (resp.ClusterID == nil || *resp.ClusterID != d.b.ClusterID()) {
			t.Errorf("v%d: cluster id %v, want %s", v, resp.ClusterID, d.b.ClusterID())
		}
		rt := metadataTopicByName(t, resp, "orders")
		if rt.ErrorCode != 0 || len(rt.Partitions) != 3 {
			t.Fatalf("v%d: orders: error %d, %d partitions", v, rt.ErrorCode, len(rt.Partitions))
		}
		if v >= 10 && rt.TopicID != info.ID {
			t.Errorf("v%d: topic id %x, want %x", v, rt.TopicID, info.ID)
		}
		for i, p := range rt.Partitions {
			node := []int32{d.b.NodeID()}
			if p.Partition != int32(i) || p.Leader != d.b.NodeID() || !slices.Equal(p.Replicas, node) || !slices.Equal(p.ISR, node) || len(p.OfflineReplicas) != 0 {
				t.Errorf("v%d: partition %+v", v, p)
			}
			if v >= 7 && p.LeaderEpoch != 0 {
				t.Errorf("v%d: leader epoch %d, want 0", v, p.LeaderEpoch)
			}
		}
	}
}

func TestMetadataAllTopicsOrNone(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "a", 1)
	d.createTopic(t, "b", 2)
	cl := d.client(t)

	all := kmsg.NewPtrMetadataRequest() // nil topics: all of them
	resp := dataRequest[*kmsg.MetadataResponse](t, cl, all)
	var names []string
	for _, rt := range resp.Topics {
		names = append(names, *rt.Topic)
		if internal := *rt.Topic == "__consumer_offsets"; rt.IsInternal != internal {
			t.Errorf("%s: internal %v", *rt.Topic, rt.IsInternal)
		}
	}
	if want := []string{"__consumer_offsets", "a", "b"}; !slices.Equal(names, want) {
		t.Errorf("all topics: %v, want %v", names, want)
	}

	none := kmsg.NewPtrMetadataRequest()
	none.Topics = []kmsg.MetadataRequestTopic{}
	if resp := dataRequest[*kmsg.MetadataResponse](t, cl, none); len(resp.Topics) != 0 {
		t.Errorf("empty topic list answered with %d topics, want none", len(resp.Topics))
	}

	// v0 cannot say "none": its empty list means all.
	v0 := kmsg.NewPtrMetadataRequest()
	v0.Version = 0
	v0.Topics = []kmsg.MetadataRequestTopic{}
	if resp := dataRequest[*kmsg.MetadataResponse](t, d.clientAt(t, metadataKey, 0), v0); len(resp.Topics) != 3 {
		t.Errorf("v0 empty list answered with %d topics, want all 3", len(resp.Topics))
	}
}

func TestMetadataAutoCreate(t *testing.T) {
	d := startDataBroker(t, func(c *broker.Config) { c.DefaultPartitions = 2 })
	cl := d.client(t)

	req := kmsg.NewPtrMetadataRequest()
	req.Topics = metadataTopics("asked-without-creation")
	resp := dataRequest[*kmsg.MetadataResponse](t, cl, req)
	if rt := metadataTopicByName(t, resp, "asked-without-creation"); rt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic without auto-creation: error %d, want UNKNOWN_TOPIC_OR_PARTITION", rt.ErrorCode)
	}
	if _, ok := d.b.Topic("asked-without-creation"); ok {
		t.Error("topic created although the request did not allow it")
	}

	req.AllowAutoTopicCreation = true
	req.Topics = metadataTopics("created")
	resp = dataRequest[*kmsg.MetadataResponse](t, cl, req)
	if rt := metadataTopicByName(t, resp, "created"); rt.ErrorCode != 0 || len(rt.Partitions) != 2 {
		t.Errorf("auto-created topic: error %d, %d partitions, want 0 and the default 2", rt.ErrorCode, len(rt.Partitions))
	}

	// Before v4 the request cannot say, and Kafka always created.
	old := kmsg.NewPtrMetadataRequest()
	old.Version = 3
	old.Topics = metadataTopics("created-by-v3")
	resp = dataRequest[*kmsg.MetadataResponse](t, d.clientAt(t, metadataKey, 3), old)
	if rt := metadataTopicByName(t, resp, "created-by-v3"); rt.ErrorCode != 0 {
		t.Errorf("v3 auto-creation: error %d", rt.ErrorCode)
	}

	for _, allow := range []bool{false, true} {
		req.AllowAutoTopicCreation = allow
		req.Topics = metadataTopics("bad/name", "..")
		resp = dataRequest[*kmsg.MetadataResponse](t, cl, req)
		for _, name := range []string{"bad/name", ".."} {
			if rt := metadataTopicByName(t, resp, name); rt.ErrorCode != kerr.InvalidTopicException.Code {
				t.Errorf("invalid name %q (auto-create %v): error %d, want INVALID_TOPIC_EXCEPTION", name, allow, rt.ErrorCode)
			}
		}
	}
}

func TestMetadataAutoCreateDisabledOnBroker(t *testing.T) {
	d := startDataBroker(t, func(c *broker.Config) { c.DisableAutoCreateTopics = true })
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = true
	req.Topics = metadataTopics("nope")
	resp := dataRequest[*kmsg.MetadataResponse](t, d.client(t), req)
	if rt := metadataTopicByName(t, resp, "nope"); rt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("error %d, want UNKNOWN_TOPIC_OR_PARTITION", rt.ErrorCode)
	}
}

func TestMetadataByTopicID(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "by-id", 1)
	info, _ := d.b.Topic("by-id")
	req := kmsg.NewPtrMetadataRequest()
	known, unknown := kmsg.NewMetadataRequestTopic(), kmsg.NewMetadataRequestTopic()
	known.TopicID = info.ID
	unknown.TopicID = [16]byte{1, 2, 3}
	req.Topics = []kmsg.MetadataRequestTopic{known, unknown}
	resp := dataRequest[*kmsg.MetadataResponse](t, d.client(t), req)
	if len(resp.Topics) != 2 {
		t.Fatalf("%d topics, want 2", len(resp.Topics))
	}
	if rt := resp.Topics[0]; rt.ErrorCode != 0 || rt.Topic == nil || *rt.Topic != "by-id" || rt.TopicID != info.ID {
		t.Errorf("known id: %+v", rt)
	}
	if rt := resp.Topics[1]; rt.ErrorCode != kerr.UnknownTopicID.Code || rt.TopicID != unknown.TopicID {
		t.Errorf("unknown id: error %d, id %x; want UNKNOWN_TOPIC_ID", rt.ErrorCode, rt.TopicID)
	}
}

func TestMetadataAuthorizedOperations(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "ops", 1)
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = metadataTopics("ops")
	req.IncludeTopicAuthorizedOperations = true
	resp := dataRequest[*kmsg.MetadataResponse](t, d.client(t), req)
	ops := metadataTopicByName(t, resp, "ops").AuthorizedOperations
	for _, want := range []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDescribe} {
		if ops&(1<<want) == 0 {
			t.Errorf("authorized operations %b lack %v", ops, want)
		}
	}
}
