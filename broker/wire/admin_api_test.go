package wire

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// gaNewTopic is a CreateTopics entry; configs are name, value pairs.
func gaNewTopic(name string, partitions int32, replication int16, configs ...string) kmsg.CreateTopicsRequestTopic {
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, replication
	for i := 0; i+1 < len(configs); i += 2 {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = configs[i], kmsg.StringPtr(configs[i+1])
		rt.Configs = append(rt.Configs, c)
	}
	return rt
}

func gaCreateTopics(c *gaConn, version int16, validateOnly bool, topics ...kmsg.CreateTopicsRequestTopic) *kmsg.CreateTopicsResponse {
	c.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version, req.ValidateOnly, req.Topics, req.TimeoutMillis = version, validateOnly, topics, 5000
	resp := gaCall[*kmsg.CreateTopicsResponse](c, req)
	if len(resp.Topics) != len(topics) {
		c.t.Fatalf("CreateTopics v%d: %d results for %d topics", version, len(resp.Topics), len(topics))
	}
	return resp
}

func TestCreateTopicsEveryVersion(t *testing.T) {
	ab := startGABroker(t)
	c := ab.connect(t)
	for v := int16(0); v <= 7; v++ {
		name := fmt.Sprintf("created-v%d", v)
		resp := gaCreateTopics(c, v, false, gaNewTopic(name, 3, -1, "retention.ms", "3600000", "cleanup.policy", "compact"))
		res := resp.Topics[0]
		gaWantErr(t, name, res.ErrorCode, nil)
		info, ok := ab.b.Topic(name)
		if !ok || info.Partitions != 3 || info.Configs["retention.ms"] != "3600000" || info.Configs["cleanup.policy"] != "compact" {
			t.Fatalf("v%d: broker has %+v (exists %v)", v, info, ok)
		}
		if res.Topic != name || res.ErrorMessage != nil {
			t.Fatalf("v%d: %+v", v, res)
		}
		if v >= 7 && res.TopicID != info.ID {
			t.Fatalf("v%d: topic id %x, broker has %x", v, res.TopicID, info.ID)
		}
		if v < 5 {
			continue
		}
		if res.NumPartitions != 3 || res.ReplicationFactor != 1 {
			t.Fatalf("v%d: reports %d partitions, replication %d", v, res.NumPartitions, res.ReplicationFactor)
		}
		got := map[string]kmsg.CreateTopicsResponseTopicConfig{}
		for _, rc := range res.Configs {
			got[rc.Name] = rc
		}
		if rc := got["retention.ms"]; rc.Value == nil || *rc.Value != "3600000" || rc.Source != int8(kmsg.ConfigSourceDynamicTopicConfig) {
			t.Fatalf("v%d: retention.ms reported as %+v", v, rc)
		}
		if rc := got["segment.bytes"]; rc.Value == nil || *rc.Value != "1073741824" || rc.Source != int8(kmsg.ConfigSourceDefaultConfig) {
			t.Fatalf("v%d: segment.bytes reported as %+v", v, rc)
		}
	}

	// -1 partitions and replication take the broker's defaults.
	gaWantErr(t, "defaults", gaCreateTopics(c, 7, false, gaNewTopic("defaults", -1, -1)).Topics[0].ErrorCode, nil)
	if info, _ := ab.b.Topic("defaults"); info.Partitions != 1 {
		t.Fatalf("default partition count %d, want 1", info.Partitions)
	}
}

func TestCreateTopicsErrors(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "exists", 1, nil)
	ab.createTopic(t, "dotted.name", 1, nil)
	c := ab.connect(t)
	assignment := gaNewTopic("assigned", -1, -1)
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, []int32{1}
	assignment.ReplicaAssignment = append(assignment.ReplicaAssignment, ra)
	nullConfig := gaNewTopic("null-config", 1, 1)
	nc := kmsg.NewCreateTopicsRequestTopicConfig()
	nc.Name = "retention.ms"
	nullConfig.Configs = append(nullConfig.Configs, nc)

	cases := []struct {
		topic   kmsg.CreateTopicsRequestTopic
		want    *kerr.Error
		message string // a fragment the v1+ error message must hold
	}{
		{gaNewTopic("exists", 1, 1), kerr.TopicAlreadyExists, "exists"},
		{gaNewTopic("", 1, 1), kerr.InvalidTopicException, "name"},
		{gaNewTopic("..", 1, 1), kerr.InvalidTopicException, "name"},
		{gaNewTopic("has/slash", 1, 1), kerr.InvalidTopicException, "/"},
		{gaNewTopic(strings.Repeat("x", 250), 1, 1), kerr.InvalidTopicException, "249"},
		{gaNewTopic("dotted_name", 1, 1), kerr.InvalidTopicException, "collides"},
		{gaNewTopic("replicated", 1, 3), kerr.InvalidReplicationFactor, "replication factor 3"},
		{gaNewTopic("zero-replicas", 1, 0), kerr.InvalidReplicationFactor, "replication factor 0"},
		{gaNewTopic("no-partitions", 0, 1), kerr.InvalidPartitions, "0 partitions"},
		{gaNewTopic("negative-partitions", -5, 1), kerr.InvalidPartitions, "-5 partitions"},
		{assignment, kerr.InvalidRequest, "replica assignments are not supported"},
		{gaNewTopic("bad-value", 1, 1, "retention.ms", "soon"), kerr.InvalidConfig, "retention.ms"},
		{gaNewTopic("bad-policy", 1, 1, "cleanup.policy", "shred"), kerr.InvalidConfig, "cleanup.policy"},
		{gaNewTopic("unknown-config", 1, 1, "colour", "blue"), kerr.InvalidConfig, "colour"},
		{gaNewTopic("twice-configured", 1, 1, "retention.ms", "1", "retention.ms", "2"), kerr.InvalidRequest, "more than once"},
		{nullConfig, kerr.InvalidConfig, "null"},
	}
	for _, v := range []int16{0, 1, 4, 7} {
		for _, tc := range cases {
			res := gaCreateTopics(c, v, false, tc.topic).Topics[0]
			gaWantErr(t, fmt.Sprintf("v%d create %q", v, tc.topic.Topic), res.ErrorCode, tc.want)
			switch {
			case v == 0 && res.ErrorMessage != nil:
				t.Fatalf("v0 has no error message, got %q", *res.ErrorMessage)
			case v >= 1 && (res.ErrorMessage == nil || !strings.Contains(*res.ErrorMessage, tc.message)):
				t.Fatalf("v%d create %q: message %v, want it to mention %q", v, tc.topic.Topic, res.ErrorMessage, tc.message)
			}
			if v >= 5 && (res.NumPartitions != -1 || res.ReplicationFactor != -1 || res.Configs != nil) {
				t.Fatalf("v%d failed creation reports %+v", v, res)
			}
			if _, ok := ab.b.Topic(tc.topic.Topic); ok && tc.topic.Topic != "exists" {
				t.Fatalf("v%d: refused topic %q exists", v, tc.topic.Topic)
			}
		}
	}

	// A name twice in one request: neither is created, one answer.
	resp := gaCall[*kmsg.CreateTopicsResponse](c, func() kmsg.Request {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.Version = 7
		req.Topics = []kmsg.CreateTopicsRequestTopic{gaNewTopic("twice", 1, 1), gaNewTopic("once", 1, 1), gaNewTopic("twice", 2, 1)}
		return req
	}())
	if len(resp.Topics) != 2 || resp.Topics[0].Topic != "twice" || resp.Topics[1].Topic != "once" {
		t.Fatalf("duplicate names: %+v", resp.Topics)
	}
	gaWantErr(t, "duplicate name", resp.Topics[0].ErrorCode, kerr.InvalidRequest)
	gaWantErr(t, "the other topic", resp.Topics[1].ErrorCode, nil)
	if _, ok := ab.b.Topic("twice"); ok {
		t.Fatal("a topic named twice was created")
	}
}

func TestCreateTopicsValidateOnly(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "exists", 1, nil)
	c := ab.connect(t)
	resp := gaCreateTopics(c, 7, true,
		gaNewTopic("checked", 4, 1, "retention.ms", "1000"),
		gaNewTopic("exists", 1, 1),
		gaNewTopic("badly-configured", 1, 1, "segment.bytes", "1"),
	)
	ok := resp.Topics[0]
	gaWantErr(t, "valid creation", ok.ErrorCode, nil)
	if ok.NumPartitions != 4 || ok.ReplicationFactor != 1 || ok.TopicID != [16]byte{} {
		t.Fatalf("validate-only result %+v", ok)
	}
	if i := slices.IndexFunc(ok.Configs, func(c kmsg.CreateTopicsResponseTopicConfig) bool { return c.Name == "retention.ms" }); i < 0 || *ok.Configs[i].Value != "1000" {
		t.Fatalf("validate-only configs %+v", ok.Configs)
	}
	gaWantErr(t, "existing topic", resp.Topics[1].ErrorCode, kerr.TopicAlreadyExists)
	gaWantErr(t, "bad config", resp.Topics[2].ErrorCode, kerr.InvalidConfig)
	for _, name := range []string{"checked", "badly-configured"} {
		if _, exists := ab.b.Topic(name); exists {
			t.Fatalf("validate-only created %s", name)
		}
	}
}

func gaDeleteByName(c *gaConn, version int16, names ...string) []kmsg.DeleteTopicsResponseTopic {
	c.t.Helper()
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Version, req.TimeoutMillis = version, 5000
	if version < 6 {
		req.TopicNames = names
	} else {
		for _, n := range names {
			rt := kmsg.NewDeleteTopicsRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
	}
	return gaCall[*kmsg.DeleteTopicsResponse](c, req).Topics
}

func TestDeleteTopicsEveryVersion(t *testing.T) {
	ab := startGABroker(t)
	c := ab.connect(t)
	for v := int16(0); v <= 6; v++ {
		name := fmt.Sprintf("doomed-v%d", v)
		ab.createTopic(t, name, 2, nil)
		info, _ := ab.b.Topic(name)
		res := gaDeleteByName(c, v, name, "never-created")
		if len(res) != 2 || res[0].Topic == nil || *res[0].Topic != name {
			t.Fatalf("v%d: %+v", v, res)
		}
		gaWantErr(t, "delete", res[0].ErrorCode, nil)
		gaWantErr(t, "delete unknown topic", res[1].ErrorCode, kerr.UnknownTopicOrPartition)
		if v >= 5 && (res[1].ErrorMessage == nil || !strings.Contains(*res[1].ErrorMessage, "never-created")) {
			t.Fatalf("v%d: message %v", v, res[1].ErrorMessage)
		}
		if v >= 6 && res[0].TopicID != info.ID {
			t.Fatalf("v%d: id %x, want %x", v, res[0].TopicID, info.ID)
		}
		if _, ok := ab.b.Topic(name); ok {
			t.Fatalf("v%d: %s still exists", v, name)
		}
	}
}

func TestDeleteTopicsByIDAndErrors(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "by-id", 1, nil)
	ab.createTopic(t, "kept", 1, nil)
	info, _ := ab.b.Topic("by-id")
	kept, _ := ab.b.Topic("kept")
	c := ab.connect(t)

	req := kmsg.NewPtrDeleteTopicsRequest()
	req.Version = 6
	byID := kmsg.NewDeleteTopicsRequestTopic()
	byID.TopicID = info.ID
	unknownID := kmsg.NewDeleteTopicsRequestTopic()
	unknownID.TopicID = [16]byte{0xee}
	both := kmsg.NewDeleteTopicsRequestTopic()
	both.Topic, both.TopicID = kmsg.StringPtr("kept"), kept.ID
	req.Topics = []kmsg.DeleteTopicsRequestTopic{byID, unknownID, both}
	res := gaCall[*kmsg.DeleteTopicsResponse](c, req).Topics
	if len(res) != 3 {
		t.Fatalf("%+v", res)
	}
	gaWantErr(t, "delete by id", res[0].ErrorCode, nil)
	if res[0].Topic == nil || *res[0].Topic != "by-id" || res[0].TopicID != info.ID {
		t.Fatalf("delete by id answered %+v", res[0])
	}
	gaWantErr(t, "unknown id", res[1].ErrorCode, kerr.UnknownTopicID)
	if res[1].Topic != nil || res[1].TopicID != unknownID.TopicID {
		t.Fatalf("unknown id answered %+v", res[1])
	}
	gaWantErr(t, "name and id", res[2].ErrorCode, kerr.InvalidRequest)
	if _, ok := ab.b.Topic("by-id"); ok {
		t.Fatal("topic deleted by id still exists")
	}
	if _, ok := ab.b.Topic("kept"); !ok {
		t.Fatal("a request naming both name and id deleted the topic")
	}

	dup := gaDeleteByName(c, 6, "kept", "kept")
	if len(dup) != 1 {
		t.Fatalf("duplicate names: %+v", dup)
	}
	gaWantErr(t, "duplicate names", dup[0].ErrorCode, kerr.InvalidRequest)
	if _, ok := ab.b.Topic("kept"); !ok {
		t.Fatal("a topic named twice was deleted")
	}
	internal := gaDeleteByName(c, 6, "__consumer_offsets")
	if internal[0].ErrorCode == 0 {
		t.Fatal("the offsets topic was deleted")
	}
}

func gaDescribe(c *gaConn, version int16, synonyms bool, resources ...kmsg.DescribeConfigsRequestResource) []kmsg.DescribeConfigsResponseResource {
	c.t.Helper()
	req := kmsg.NewPtrDescribeConfigsRequest()
	req.Version, req.IncludeSynonyms, req.Resources = version, synonyms, resources
	resp := gaCall[*kmsg.DescribeConfigsResponse](c, req)
	if len(resp.Resources) != len(resources) {
		c.t.Fatalf("DescribeConfigs v%d: %d results for %d resources", version, len(resp.Resources), len(resources))
	}
	return resp.Resources
}

func gaResource(typ kmsg.ConfigResourceType, name string, configs ...string) kmsg.DescribeConfigsRequestResource {
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName, r.ConfigNames = typ, name, configs
	return r
}

func gaConfigByName(res kmsg.DescribeConfigsResponseResource) map[string]kmsg.DescribeConfigsResponseResourceConfig {
	out := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
	for _, c := range res.Configs {
		out[c.Name] = c
	}
	return out
}

func TestDescribeConfigsEveryVersion(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "described", 1, map[string]string{"retention.ms": "5000", "cleanup.policy": "compact,delete"})
	c := ab.connect(t)
	for v := int16(0); v <= 4; v++ {
		res := gaDescribe(c, v, true, gaResource(kmsg.ConfigResourceTypeTopic, "described"))[0]
		gaWantErr(t, "describe topic", res.ErrorCode, nil)
		if res.ResourceName != "described" || res.ResourceType != kmsg.ConfigResourceTypeTopic {
			t.Fatalf("v%d: resource %+v", v, res)
		}
		got := gaConfigByName(res)
		set, def := got["retention.ms"], got["segment.bytes"]
		if len(got) < 20 || set.Value == nil || *set.Value != "5000" || def.Value == nil || *def.Value != "1073741824" {
			t.Fatalf("v%d: %d configs, retention.ms %+v, segment.bytes %+v", v, len(got), set, def)
		}
		if set.ReadOnly || set.IsSensitive || def.ReadOnly {
			t.Fatalf("v%d: topic configs must be writable and not sensitive", v)
		}
		if v == 0 {
			if set.IsDefault || !def.IsDefault {
				t.Fatalf("v0 IsDefault: set %v, default %v", set.IsDefault, def.IsDefault)
			}
		} else {
			if set.Source != kmsg.ConfigSourceDynamicTopicConfig || def.Source != kmsg.ConfigSourceDefaultConfig {
				t.Fatalf("v%d sources: set %v, default %v", v, set.Source, def.Source)
			}
			if len(set.ConfigSynonyms) != 2 || set.ConfigSynonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig ||
				set.ConfigSynonyms[1].Name != "log.retention.ms" || *set.ConfigSynonyms[1].Value != "604800000" {
				t.Fatalf("v%d synonyms of retention.ms: %+v", v, set.ConfigSynonyms)
			}
			if len(def.ConfigSynonyms) != 1 || def.ConfigSynonyms[0].Name != "log.segment.bytes" {
				t.Fatalf("v%d synonyms of segment.bytes: %+v", v, def.ConfigSynonyms)
			}
		}
		if v >= 3 {
			types := map[string]kmsg.ConfigType{"retention.ms": kmsg.ConfigTypeLong, "cleanup.policy": kmsg.ConfigTypeList,
				"segment.bytes": kmsg.ConfigTypeInt, "preallocate": kmsg.ConfigTypeBoolean, "compression.type": kmsg.ConfigTypeString,
				"min.cleanable.dirty.ratio": kmsg.ConfigTypeDouble}
			for name, typ := range types {
				if got[name].ConfigType != typ {
					t.Fatalf("v%d: %s has type %v, want %v", v, name, got[name].ConfigType, typ)
				}
			}
			if set.Documentation != nil {
				t.Fatalf("v%d: documentation %q", v, *set.Documentation)
			}
		}
	}

	// Without IncludeSynonyms there are none.
	res := gaDescribe(c, 4, false, gaResource(kmsg.ConfigResourceTypeTopic, "described"))[0]
	if syn := gaConfigByName(res)["retention.ms"].ConfigSynonyms; len(syn) != 0 {
		t.Fatalf("synonyms not asked for: %+v", syn)
	}
}

func TestDescribeConfigsFiltersBrokersAndErrors(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "described", 1, map[string]string{"retention.ms": "5000"})
	c := ab.connect(t)
	res := gaDescribe(c, 4, false,
		gaResource(kmsg.ConfigResourceTypeTopic, "described", "retention.ms", "cleanup.policy", "no.such.config"),
		gaResource(kmsg.ConfigResourceTypeTopic, "missing"),
		gaResource(kmsg.ConfigResourceTypeBroker, "1"),
		gaResource(kmsg.ConfigResourceTypeBroker, "", "broker.id", "offsets.topic.replication.factor"),
		gaResource(kmsg.ConfigResourceTypeBroker, "2"),
		gaResource(kmsg.ConfigResourceTypeBroker, "leader"),
		gaResource(kmsg.ConfigResourceTypeBrokerLogger, "1"),
	)
	got := gaConfigByName(res[0])
	if len(got) != 2 || *got["retention.ms"].Value != "5000" || *got["cleanup.policy"].Value != "delete" {
		t.Fatalf("filtered topic configs: %+v", res[0].Configs)
	}
	gaWantErr(t, "unknown topic", res[1].ErrorCode, kerr.UnknownTopicOrPartition)
	if res[1].ErrorMessage == nil || !strings.Contains(*res[1].ErrorMessage, "missing") {
		t.Fatalf("unknown topic message %v", res[1].ErrorMessage)
	}

	gaWantErr(t, "describe broker", res[2].ErrorCode, nil)
	broker := gaConfigByName(res[2])
	for name, want := range map[string]string{
		"broker.id": "1", "node.id": "1", "default.replication.factor": "1", "offsets.topic.replication.factor": "1",
		"message.max.bytes": "1048588", "log.retention.ms": "604800000", "log.cleanup.policy": "delete",
	} {
		bc, ok := broker[name]
		if !ok || bc.Value == nil || *bc.Value != want || !bc.ReadOnly {
			t.Fatalf("broker config %s = %+v, want read-only %q", name, bc, want)
		}
	}
	if broker["broker.id"].Source != kmsg.ConfigSourceStaticBrokerConfig || broker["log.retention.ms"].Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("broker config sources: broker.id %v, log.retention.ms %v", broker["broker.id"].Source, broker["log.retention.ms"].Source)
	}
	if defaults := gaConfigByName(res[3]); len(defaults) != 2 || *defaults["broker.id"].Value != "1" {
		t.Fatalf("broker \"\" filtered: %+v", res[3].Configs)
	}
	gaWantErr(t, "another broker", res[4].ErrorCode, kerr.InvalidRequest)
	gaWantErr(t, "broker name not a number", res[5].ErrorCode, kerr.InvalidRequest)
	gaWantErr(t, "broker logger", res[6].ErrorCode, kerr.InvalidRequest)
	for _, r := range res[4:] {
		if r.ErrorMessage == nil || len(r.Configs) != 0 {
			t.Fatalf("refused resource %+v", r)
		}
	}
}

func gaIncremental(c *gaConn, version int16, validateOnly bool, typ kmsg.ConfigResourceType, name string, ops ...kmsg.IncrementalAlterConfigsRequestResourceConfig) kmsg.IncrementalAlterConfigsResponseResource {
	c.t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	req.Version, req.ValidateOnly = version, validateOnly
	rr := kmsg.NewIncrementalAlterConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.Configs = typ, name, ops
	req.Resources = append(req.Resources, rr)
	resp := gaCall[*kmsg.IncrementalAlterConfigsResponse](c, req)
	if len(resp.Resources) != 1 || resp.Resources[0].ResourceName != name || resp.Resources[0].ResourceType != typ {
		c.t.Fatalf("IncrementalAlterConfigs v%d: %+v", version, resp.Resources)
	}
	return resp.Resources[0]
}

func gaOp(name string, op kmsg.IncrementalAlterConfigOp, value ...string) kmsg.IncrementalAlterConfigsRequestResourceConfig {
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Op = name, op
	if len(value) > 0 {
		c.Value = kmsg.StringPtr(value[0])
	}
	return c
}

// topicConfigs returns the configs set explicitly on a topic.
func (ab *gaBroker) topicConfigs(t *testing.T, name string) map[string]string {
	t.Helper()
	info, ok := ab.b.Topic(name)
	if !ok {
		t.Fatalf("no topic %s", name)
	}
	return info.Configs
}

func TestIncrementalAlterConfigs(t *testing.T) {
	const (
		set      = kmsg.IncrementalAlterConfigOpSet
		del      = kmsg.IncrementalAlterConfigOpDelete
		appendTo = kmsg.IncrementalAlterConfigOpAppend
		subtract = kmsg.IncrementalAlterConfigOpSubtract
		topic    = kmsg.ConfigResourceTypeTopic
	)
	for _, v := range []int16{0, 1} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			ab := startGABroker(t)
			ab.createTopic(t, "t", 1, map[string]string{"retention.ms": "1000", "segment.ms": "2000"})
			c := ab.connect(t)

			res := gaIncremental(c, v, false, topic, "t", gaOp("retention.ms", set, "9000"), gaOp("segment.ms", del))
			gaWantErr(t, "set and delete", res.ErrorCode, nil)
			if got := ab.topicConfigs(t, "t"); got["retention.ms"] != "9000" || len(got) != 1 {
				t.Fatalf("after set and delete: %v", got)
			}
			gaWantErr(t, "append", gaIncremental(c, v, false, topic, "t", gaOp("cleanup.policy", appendTo, "compact")).ErrorCode, nil)
			if got := ab.topicConfigs(t, "t")["cleanup.policy"]; got != "delete,compact" {
				t.Fatalf("append compact to the default: %q", got)
			}
			gaWantErr(t, "append again", gaIncremental(c, v, false, topic, "t", gaOp("cleanup.policy", appendTo, "compact")).ErrorCode, nil)
			gaWantErr(t, "subtract", gaIncremental(c, v, false, topic, "t", gaOp("cleanup.policy", subtract, "delete")).ErrorCode, nil)
			if got := ab.topicConfigs(t, "t")["cleanup.policy"]; got != "compact" {
				t.Fatalf("after appending twice and subtracting: %q", got)
			}

			before := ab.topicConfigs(t, "t")
			for _, tc := range []struct {
				what string
				ops  []kmsg.IncrementalAlterConfigsRequestResourceConfig
				want *kerr.Error
			}{
				{"bad value", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("retention.ms", set, "1"), gaOp("segment.bytes", set, "tiny")}, kerr.InvalidConfig},
				{"unknown config", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("colour", set, "blue")}, kerr.InvalidConfig},
				{"delete unknown config", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("colour", del)}, kerr.InvalidConfig},
				{"append to a non-list", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("retention.ms", appendTo, "5")}, kerr.InvalidConfig},
				{"set without value", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("retention.ms", set)}, kerr.InvalidRequest},
				{"same config twice", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("retention.ms", set, "1"), gaOp("retention.ms", del)}, kerr.InvalidRequest},
				{"unknown operation", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("retention.ms", 9, "1")}, kerr.InvalidRequest},
				{"policy emptied", []kmsg.IncrementalAlterConfigsRequestResourceConfig{gaOp("cleanup.policy", subtract, "compact")}, kerr.InvalidConfig},
			} {
				res := gaIncremental(c, v, false, topic, "t", tc.ops...)
				gaWantErr(t, tc.what, res.ErrorCode, tc.want)
				if res.ErrorMessage == nil {
					t.Fatalf("%s: no error message", tc.what)
				}
				if got := ab.topicConfigs(t, "t"); !maps.Equal(got, before) {
					t.Fatalf("%s changed the configs: %v, was %v", tc.what, got, before)
				}
			}

			gaWantErr(t, "validate only", gaIncremental(c, v, true, topic, "t", gaOp("retention.ms", set, "1")).ErrorCode, nil)
			gaWantErr(t, "validate only, bad value", gaIncremental(c, v, true, topic, "t", gaOp("retention.ms", set, "x")).ErrorCode, kerr.InvalidConfig)
			if got := ab.topicConfigs(t, "t"); !maps.Equal(got, before) {
				t.Fatalf("validate-only changed the configs: %v", got)
			}
			gaWantErr(t, "unknown topic", gaIncremental(c, v, false, topic, "nope", gaOp("retention.ms", set, "1")).ErrorCode, kerr.UnknownTopicOrPartition)
			gaWantErr(t, "this broker", gaIncremental(c, v, false, kmsg.ConfigResourceTypeBroker, "1", gaOp("num.io.threads", set, "4")).ErrorCode, kerr.InvalidRequest)
			gaWantErr(t, "cluster default", gaIncremental(c, v, false, kmsg.ConfigResourceTypeBroker, "", gaOp("num.io.threads", set, "4")).ErrorCode, kerr.InvalidRequest)
			gaWantErr(t, "another broker", gaIncremental(c, v, false, kmsg.ConfigResourceTypeBroker, "3", gaOp("num.io.threads", set, "4")).ErrorCode, kerr.InvalidRequest)
		})
	}
}

func TestAlterConfigsReplaces(t *testing.T) {
	for v := int16(0); v <= 2; v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			ab := startGABroker(t)
			ab.createTopic(t, "t", 1, map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"})
			ab.createTopic(t, "u", 1, nil)
			c := ab.connect(t)
			alter := func(validateOnly bool, resources ...kmsg.AlterConfigsRequestResource) []kmsg.AlterConfigsResponseResource {
				t.Helper()
				req := kmsg.NewPtrAlterConfigsRequest()
				req.Version, req.ValidateOnly, req.Resources = v, validateOnly, resources
				resp := gaCall[*kmsg.AlterConfigsResponse](c, req)
				if len(resp.Resources) != len(resources) {
					t.Fatalf("%d results for %d resources", len(resp.Resources), len(resources))
				}
				return resp.Resources
			}
			resource := func(typ kmsg.ConfigResourceType, name string, configs ...string) kmsg.AlterConfigsRequestResource {
				r := kmsg.NewAlterConfigsRequestResource()
				r.ResourceType, r.ResourceName = typ, name
				for i := 0; i+1 < len(configs); i += 2 {
					rc := kmsg.NewAlterConfigsRequestResourceConfig()
					rc.Name, rc.Value = configs[i], kmsg.StringPtr(configs[i+1])
					r.Configs = append(r.Configs, rc)
				}
				return r
			}

			res := alter(false, resource(kmsg.ConfigResourceTypeTopic, "t", "segment.ms", "60000"),
				resource(kmsg.ConfigResourceTypeTopic, "u", "retention.ms", "77"))
			gaWantErr(t, "replace t", res[0].ErrorCode, nil)
			gaWantErr(t, "replace u", res[1].ErrorCode, nil)
			if got := ab.topicConfigs(t, "t"); len(got) != 1 || got["segment.ms"] != "60000" {
				t.Fatalf("replace left %v, want only segment.ms", got)
			}
			if got := ab.topicConfigs(t, "u"); len(got) != 1 || got["retention.ms"] != "77" {
				t.Fatalf("u has %v", got)
			}

			gaWantErr(t, "validate only", alter(true, resource(kmsg.ConfigResourceTypeTopic, "t"))[0].ErrorCode, nil)
			if got := ab.topicConfigs(t, "t"); len(got) != 1 {
				t.Fatalf("validate-only replaced the configs: %v", got)
			}
			nullValue := resource(kmsg.ConfigResourceTypeTopic, "t")
			nv := kmsg.NewAlterConfigsRequestResourceConfig()
			nv.Name = "retention.ms"
			nullValue.Configs = append(nullValue.Configs, nv)
			res = alter(false,
				resource(kmsg.ConfigResourceTypeTopic, "t", "colour", "blue"),
				resource(kmsg.ConfigResourceTypeTopic, "u", "retention.ms", "soon"),
				nullValue,
				resource(kmsg.ConfigResourceTypeTopic, "missing", "retention.ms", "1"),
				resource(kmsg.ConfigResourceTypeBroker, "1", "log.retention.ms", "1"),
				resource(kmsg.ConfigResourceTypeTopic, "u", "retention.ms", "1", "retention.ms", "2"),
			)
			gaWantErr(t, "unknown config", res[0].ErrorCode, kerr.InvalidRequest) // t is named twice
			gaWantErr(t, "bad value", res[1].ErrorCode, kerr.InvalidRequest)      // u is named twice
			gaWantErr(t, "null value", res[2].ErrorCode, kerr.InvalidRequest)
			gaWantErr(t, "unknown topic", res[3].ErrorCode, kerr.UnknownTopicOrPartition)
			gaWantErr(t, "broker", res[4].ErrorCode, kerr.InvalidRequest)

			res = alter(false, resource(kmsg.ConfigResourceTypeTopic, "t", "colour", "blue"),
				resource(kmsg.ConfigResourceTypeTopic, "u", "retention.ms", "soon"))
			gaWantErr(t, "unknown config", res[0].ErrorCode, kerr.InvalidConfig)
			gaWantErr(t, "bad value", res[1].ErrorCode, kerr.InvalidConfig)
			if got := ab.topicConfigs(t, "u"); got["retention.ms"] != "77" {
				t.Fatalf("a refused change altered u: %v", got)
			}
		})
	}
}

// TestAdminAndGroupAPIsAdvertised checks ApiVersions lists exactly the
// ranges registered here, and neither KIP-848's ConsumerGroupHeartbeat nor
// CreatePartitions, which the broker cannot serve.
func TestAdminAndGroupAPIsAdvertised(t *testing.T) {
	ab := startGABroker(t)
	c := ab.connect(t)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	resp := gaCall[*kmsg.ApiVersionsResponse](c, req)
	got := map[int16]int16{}
	for _, k := range resp.ApiKeys {
		if k.MinVersion != 0 {
			continue
		}
		got[k.ApiKey] = k.MaxVersion
	}
	want := map[kmsg.Key]int16{
		kmsg.JoinGroup: 9, kmsg.SyncGroup: 5, kmsg.Heartbeat: 4, kmsg.LeaveGroup: 5, kmsg.OffsetCommit: 10,
		kmsg.OffsetFetch: 10, kmsg.DescribeGroups: 6, kmsg.ListGroups: 5, kmsg.DeleteGroups: 3, kmsg.OffsetDelete: 0,
		kmsg.CreateTopics: 7, kmsg.DeleteTopics: 6, kmsg.DescribeConfigs: 4, kmsg.AlterConfigs: 2, kmsg.IncrementalAlterConfigs: 1,
	}
	for key, max := range want {
		if got[key.Int16()] != max {
			t.Errorf("%s advertised up to v%d, want v%d", key.Name(), got[key.Int16()], max)
		}
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == kmsg.ConsumerGroupHeartbeat.Int16() || k.ApiKey == kmsg.CreatePartitions.Int16() {
			t.Errorf("%s is advertised", kmsg.Key(k.ApiKey).Name())
		}
	}
}
