package wire

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// topicConfigInfo is what DescribeConfigs tells about a topic config
// besides its value: its type (v3+) and the broker config that supplies its
// default in Kafka, reported as a synonym (v1+).
type topicConfigInfo struct {
	typ        kmsg.ConfigType
	brokerName string
}

// topicConfigInfos covers every name in broker.TopicConfigNames. Names
// missing here are reported with an unknown type and no broker synonym.
var topicConfigInfos = map[string]topicConfigInfo{
	"cleanup.policy":                          {kmsg.ConfigTypeList, "log.cleanup.policy"},
	"retention.ms":                            {kmsg.ConfigTypeLong, "log.retention.ms"},
	"retention.bytes":                         {kmsg.ConfigTypeLong, "log.retention.bytes"},
	"segment.bytes":                           {kmsg.ConfigTypeInt, "log.segment.bytes"},
	"segment.ms":                              {kmsg.ConfigTypeLong, "log.roll.ms"},
	"delete.retention.ms":                     {kmsg.ConfigTypeLong, "log.cleaner.delete.retention.ms"},
	"min.compaction.lag.ms":                   {kmsg.ConfigTypeLong, "log.cleaner.min.compaction.lag.ms"},
	"max.message.bytes":                       {kmsg.ConfigTypeInt, "message.max.bytes"},
	"index.interval.bytes":                    {kmsg.ConfigTypeInt, "log.index.interval.bytes"},
	"compression.type":                        {kmsg.ConfigTypeString, "compression.type"},
	"message.timestamp.type":                  {kmsg.ConfigTypeString, "log.message.timestamp.type"},
	"min.insync.replicas":                     {kmsg.ConfigTypeInt, "min.insync.replicas"},
	"unclean.leader.election.enable":          {kmsg.ConfigTypeBoolean, "unclean.leader.election.enable"},
	"flush.messages":                          {kmsg.ConfigTypeLong, "log.flush.interval.messages"},
	"flush.ms":                                {kmsg.ConfigTypeLong, "log.flush.interval.ms"},
	"segment.index.bytes":                     {kmsg.ConfigTypeInt, "log.index.size.max.bytes"},
	"segment.jitter.ms":                       {kmsg.ConfigTypeLong, "log.roll.jitter.ms"},
	"file.delete.delay.ms":                    {kmsg.ConfigTypeLong, "log.segment.delete.delay.ms"},
	"min.cleanable.dirty.ratio":               {kmsg.ConfigTypeDouble, "log.cleaner.min.cleanable.ratio"},
	"max.compaction.lag.ms":                   {kmsg.ConfigTypeLong, "log.cleaner.max.compaction.lag.ms"},
	"preallocate":                             {kmsg.ConfigTypeBoolean, "log.preallocate"},
	"message.downconversion.enable":           {kmsg.ConfigTypeBoolean, "log.message.downconversion.enable"},
	"message.timestamp.difference.max.ms":     {kmsg.ConfigTypeLong, "log.message.timestamp.difference.max.ms"},
	"message.timestamp.before.max.ms":         {kmsg.ConfigTypeLong, "log.message.timestamp.before.max.ms"},
	"message.timestamp.after.max.ms":          {kmsg.ConfigTypeLong, "log.message.timestamp.after.max.ms"},
	"local.retention.ms":                      {kmsg.ConfigTypeLong, "log.local.retention.ms"},
	"local.retention.bytes":                   {kmsg.ConfigTypeLong, "log.local.retention.bytes"},
	"remote.storage.enable":                   {kmsg.ConfigTypeBoolean, ""},
	"leader.replication.throttled.replicas":   {kmsg.ConfigTypeList, ""},
	"follower.replication.throttled.replicas": {kmsg.ConfigTypeList, ""},
}

// configSynonym is one source a config's value may come from, in order of
// precedence.
type configSynonym struct {
	name, value string
	source      kmsg.ConfigSource
}

// describedConfig is one config as DescribeConfigs and CreateTopics v5+
// report it.
type describedConfig struct {
	name, value string
	source      kmsg.ConfigSource
	readOnly    bool
	typ         kmsg.ConfigType
	synonyms    []configSynonym
}

// describeTopicConfigs turns the broker's view of a topic's configs into
// Kafka's: explicitly set ones come from the topic (DYNAMIC_TOPIC_CONFIG)
// and have the broker-wide default as a second synonym; the rest are
// defaults (DEFAULT_CONFIG).
func describeTopicConfigs(entries []broker.ConfigEntry) []describedConfig {
	out := make([]describedConfig, 0, len(entries))
	for _, e := range entries {
		info := topicConfigInfos[e.Name]
		dc := describedConfig{name: e.Name, value: e.Value, typ: info.typ}
		def, _ := broker.TopicConfigDefault(e.Name)
		defName := info.brokerName
		if defName == "" {
			defName = e.Name
		}
		defSynonym := configSynonym{name: defName, value: def, source: kmsg.ConfigSourceDefaultConfig}
		if e.IsDefault {
			dc.source = kmsg.ConfigSourceDefaultConfig
			dc.synonyms = []configSynonym{defSynonym}
		} else {
			dc.source = kmsg.ConfigSourceDynamicTopicConfig
			dc.synonyms = []configSynonym{{name: e.Name, value: e.Value, source: kmsg.ConfigSourceDynamicTopicConfig}, defSynonym}
		}
		out = append(out, dc)
	}
	return out
}

// topicConfigEntries is what the broker would report for a topic created
// with the given explicit configs, for validate-only creations.
func topicConfigEntries(explicit map[string]string) []broker.ConfigEntry {
	names := broker.TopicConfigNames()
	out := make([]broker.ConfigEntry, 0, len(names))
	for _, n := range names {
		if v, ok := explicit[n]; ok {
			out = append(out, broker.ConfigEntry{Name: n, Value: v})
			continue
		}
		def, _ := broker.TopicConfigDefault(n)
		out = append(out, broker.ConfigEntry{Name: n, Value: def, IsDefault: true})
	}
	return out
}

// brokerConfigs are the broker configs reported for this node: what Kafka
// tools and clients look at to size topics they create, every one
// read-only. Topic-config defaults appear under their broker names
// (log.retention.ms…), since eddy's defaults are Kafka's.
func (a *adminHandlers) brokerConfigs() []describedConfig {
	static := func(name, value string, typ kmsg.ConfigType) describedConfig {
		return describedConfig{name: name, value: value, source: kmsg.ConfigSourceStaticBrokerConfig, readOnly: true, typ: typ,
			synonyms: []configSynonym{{name: name, value: value, source: kmsg.ConfigSourceStaticBrokerConfig}}}
	}
	byDefault := func(name, value string, typ kmsg.ConfigType) describedConfig {
		return describedConfig{name: name, value: value, source: kmsg.ConfigSourceDefaultConfig, readOnly: true, typ: typ,
			synonyms: []configSynonym{{name: name, value: value, source: kmsg.ConfigSourceDefaultConfig}}}
	}
	node := strconv.Itoa(int(a.b.NodeID()))
	offsetsPartitions := "1"
	if t, ok := a.b.Topic("__consumer_offsets"); ok {
		offsetsPartitions = strconv.Itoa(int(t.Partitions))
	}
	out := []describedConfig{
		static("broker.id", node, kmsg.ConfigTypeInt),
		static("node.id", node, kmsg.ConfigTypeInt),
		byDefault("default.replication.factor", "1", kmsg.ConfigTypeInt),
		static("offsets.topic.replication.factor", "1", kmsg.ConfigTypeShort),
		static("offsets.topic.num.partitions", offsetsPartitions, kmsg.ConfigTypeInt),
		static("transaction.state.log.replication.factor", "1", kmsg.ConfigTypeShort),
		static("transaction.state.log.min.isr", "1", kmsg.ConfigTypeInt),
	}
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.name] = true
	}
	for _, n := range broker.TopicConfigNames() {
		info := topicConfigInfos[n]
		if info.brokerName == "" || seen[info.brokerName] {
			continue
		}
		seen[info.brokerName] = true
		def, _ := broker.TopicConfigDefault(n)
		out = append(out, byDefault(info.brokerName, def, info.typ))
	}
	slices.SortFunc(out, func(x, y describedConfig) int { return strings.Compare(x.name, y.name) })
	return out
}

// checkBrokerName accepts this node's id and "", which Kafka uses for the
// cluster-wide defaults; a single node has no other broker to answer for.
func (a *adminHandlers) checkBrokerName(name string) error {
	if name == "" {
		return nil
	}
	id, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return newAdminError(kerr.InvalidRequest, "broker resource name %q: must be a node id", name)
	}
	if int32(id) != a.b.NodeID() {
		return newAdminError(kerr.InvalidRequest, "broker %d: this is node %d, the only broker of its cluster", id, a.b.NodeID())
	}
	return nil
}

// resourceConfigs returns every config of one resource.
func (a *adminHandlers) resourceConfigs(typ kmsg.ConfigResourceType, name string) ([]describedConfig, error) {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		entries, err := a.b.TopicConfigs(name)
		if err != nil {
			return nil, err
		}
		return describeTopicConfigs(entries), nil
	case kmsg.ConfigResourceTypeBroker:
		if err := a.checkBrokerName(name); err != nil {
			return nil, err
		}
		return a.brokerConfigs(), nil
	default:
		return nil, newAdminError(kerr.InvalidRequest, "%s resources have no configs on this broker; topics and brokers do", typ)
	}
}

// describeConfigs reports topic and broker configs. Names a client asks
// for that do not exist are left out, as Kafka does.
func (a *adminHandlers) describeConfigs(_ context.Context, _ *RequestContext, req *kmsg.DescribeConfigsRequest) (Response, error) {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		res := kmsg.NewDescribeConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		configs, err := a.resourceConfigs(rr.ResourceType, rr.ResourceName)
		if err != nil {
			res.ErrorCode, res.ErrorMessage = adminErrorCode(err), errorMessage(err)
		}
		for _, c := range configs {
			if len(rr.ConfigNames) == 0 || slices.Contains(rr.ConfigNames, c.name) {
				res.Configs = append(res.Configs, c.describe(req.Version, req.IncludeSynonyms))
			}
		}
		resp.Resources = append(resp.Resources, res)
	}
	return Message(resp), nil
}

func (c describedConfig) describe(version int16, withSynonyms bool) kmsg.DescribeConfigsResponseResourceConfig {
	rc := kmsg.NewDescribeConfigsResponseResourceConfig()
	rc.Name = c.name
	rc.Value = kmsg.StringPtr(c.value)
	rc.ReadOnly = c.readOnly
	if version == 0 {
		rc.IsDefault = c.source == kmsg.ConfigSourceDefaultConfig
	} else {
		rc.Source = c.source
	}
	if version >= 1 && withSynonyms {
		for _, s := range c.synonyms {
			syn := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			syn.Name, syn.Value, syn.Source = s.name, kmsg.StringPtr(s.value), s.source
			rc.ConfigSynonyms = append(rc.ConfigSynonyms, syn)
		}
	}
	if version >= 3 {
		rc.ConfigType = c.typ
	}
	return rc
}
