package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// adminClient returns a kadm client on the broker, closed with the test.
func adminClient(t *testing.T, addr string, opts ...kgo.Opt) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	mustf(t, err, "kgo client")
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func adminContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// adminConfig finds one config of a described resource.
func adminConfig(t *testing.T, rc kadm.ResourceConfig, name string) kadm.Config {
	t.Helper()
	for _, c := range rc.Configs {
		if c.Key == name {
			return c
		}
	}
	t.Fatalf("%s has no config %s", rc.Name, name)
	return kadm.Config{}
}

func TestKadmTopicsAndConfigs(t *testing.T) {
	tb := startBroker(t, "")
	adm := adminClient(t, tb.Addr)
	ctx := adminContext(t)

	created, err := adm.CreateTopics(ctx, 3, 1, map[string]*string{
		"retention.ms":   kadm.StringPtr("3600000"),
		"cleanup.policy": kadm.StringPtr("compact"),
	}, "kadm-a", "kadm-b")
	mustf(t, err, "create topics")
	for _, name := range []string{"kadm-a", "kadm-b"} {
		r := created[name]
		info, ok := tb.Broker.Topic(name)
		switch {
		case r.Err != nil:
			t.Fatalf("create %s: %v (%s)", name, r.Err, r.ErrMessage)
		case !ok || info.Partitions != 3 || info.Configs["retention.ms"] != "3600000":
			t.Fatalf("broker has %s as %+v", name, info)
		case r.NumPartitions != 3 || r.ReplicationFactor != 1 || [16]byte(r.ID) != info.ID:
			t.Fatalf("create %s answered %+v", name, r)
		}
		if c := r.Configs["retention.ms"]; c.MaybeValue() != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Fatalf("create %s reports retention.ms %+v", name, c)
		}
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "kadm-a"); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("creating kadm-a again: %v", err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "kadm-replicated"); !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3: %v", err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("later")}, "kadm-bad"); !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("bad retention.ms: %v", err)
	}
	dry, err := adm.ValidateCreateTopics(ctx, 2, -1, nil, "kadm-dry")
	mustf(t, err, "validate-only create")
	if dry["kadm-dry"].Err != nil || dry["kadm-dry"].NumPartitions != 2 {
		t.Fatalf("validate-only create: %+v", dry["kadm-dry"])
	}

	listed, err := adm.ListTopics(ctx)
	mustf(t, err, "list topics")
	if len(listed) != 2 || !listed.Has("kadm-a") || !listed.Has("kadm-b") || len(listed["kadm-a"].Partitions) != 3 {
		t.Fatalf("listed %v", listed.Names())
	}

	described, err := adm.DescribeTopicConfigs(ctx, "kadm-a")
	mustf(t, err, "describe configs")
	rc, err := described.On("kadm-a", nil)
	mustf(t, err, "describe kadm-a")
	if c := adminConfig(t, rc, "retention.ms"); c.MaybeValue() != "3600000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms described as %+v", c)
	}
	if c := adminConfig(t, rc, "segment.bytes"); c.MaybeValue() != "1073741824" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("segment.bytes described as %+v", c)
	}
	if rcs, err := adm.DescribeTopicConfigs(ctx, "kadm-missing"); err == nil && rcs[0].Err == nil {
		t.Fatal("described an unknown topic")
	}

	altered, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")},
		{Op: kadm.AppendConfig, Name: "cleanup.policy", Value: kadm.StringPtr("delete")},
		{Op: kadm.DeleteConfig, Name: "segment.ms"},
	}, "kadm-a")
	mustf(t, err, "alter configs")
	if _, err := altered.On("kadm-a", nil); err != nil || altered[0].Err != nil {
		t.Fatalf("alter: %v %+v", err, altered)
	}
	if got, _ := tb.Broker.Topic("kadm-a"); got.Configs["retention.ms"] != "7200000" || got.Configs["cleanup.policy"] != "compact,delete" || len(got.Configs) != 2 {
		t.Fatalf("after incremental alter: %+v", got.Configs)
	}
	bad, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("x")}}, "kadm-a")
	mustf(t, err, "alter request")
	if !errors.Is(bad[0].Err, kerr.InvalidConfig) {
		t.Fatalf("bad value: %+v", bad)
	}

	brokers, err := adm.DescribeBrokerConfigs(ctx, tb.Broker.NodeID())
	mustf(t, err, "describe broker configs")
	if c := adminConfig(t, brokers[0], "broker.id"); c.MaybeValue() != "1" {
		t.Fatalf("broker.id %+v", c)
	}

	deleted, err := adm.DeleteTopics(ctx, "kadm-b", "kadm-never")
	mustf(t, err, "delete topics")
	if deleted["kadm-b"].Err != nil || !errors.Is(deleted["kadm-never"].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("delete: %+v", deleted)
	}
	// kadm answers ListTopics from its client's metadata cache, so a fresh
	// client asks the broker.
	listed, err = adminClient(t, tb.Addr).ListTopics(ctx)
	mustf(t, err, "list topics")
	if _, exists := tb.Broker.Topic("kadm-b"); exists || listed.Has("kadm-b") || !listed.Has("kadm-a") {
		t.Fatalf("after deleting kadm-b: broker has it %v, listed %v", exists, listed.Names())
	}
}

func TestKadmGroupsAndOffsets(t *testing.T) {
	tb := startBroker(t, "")
	tb.createTopic(t, "kadm-events", 3, nil)
	adm := adminClient(t, tb.Addr)
	ctx := adminContext(t)

	var offsets kadm.Offsets
	for p := int32(0); p < 3; p++ {
		offsets.Add(kadm.Offset{Topic: "kadm-events", Partition: p, At: int64(10 * (p + 1)), LeaderEpoch: -1, Metadata: "m"})
	}
	mustf(t, adm.CommitAllOffsets(ctx, "kadm-idle", offsets), "commit offsets")
	fetched, err := adm.FetchOffsets(ctx, "kadm-idle")
	mustf(t, err, "fetch offsets")
	for p := int32(0); p < 3; p++ {
		if o, ok := fetched.Lookup("kadm-events", p); !ok || o.Err != nil || o.At != int64(10*(p+1)) || o.Metadata != "m" {
			t.Fatalf("fetched partition %d: %+v", p, o)
		}
	}

	// A live member makes a second, stable group.
	member, err := kgo.NewClient(kgo.SeedBrokers(tb.Addr), kgo.ClientID("kadm-member"),
		kgo.ConsumerGroup("kadm-live"), kgo.ConsumeTopics("kadm-events"), kgo.HeartbeatInterval(200*time.Millisecond))
	mustf(t, err, "group member")
	defer member.Close()
	go func() {
		for ctx.Err() == nil {
			member.PollFetches(ctx)
		}
	}()
	var live kadm.DescribedGroup
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		groups, err := adm.DescribeGroups(ctx, "kadm-live")
		mustf(t, err, "describe groups")
		if live = groups["kadm-live"]; live.State == "Stable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group never became stable: %+v", live)
		}
	}
	if len(live.Members) != 1 || live.Members[0].ClientID != "kadm-member" || live.Members[0].ClientHost != "/127.0.0.1" || live.ProtocolType != "consumer" {
		t.Fatalf("described live group %+v", live)
	}
	if assigned := live.AssignedPartitions(); len(assigned["kadm-events"]) != 3 {
		t.Fatalf("live group assignment %v", assigned)
	}

	listed, err := adm.ListGroups(ctx)
	mustf(t, err, "list groups")
	if got := listed.Sorted(); len(got) != 2 || got[0].Group != "kadm-idle" || got[0].State != "Empty" || got[1].Group != "kadm-live" || got[1].State != "Stable" {
		t.Fatalf("listed groups %+v", got)
	}
	idle, err := adm.DescribeGroups(ctx, "kadm-idle")
	mustf(t, err, "describe idle group")
	if idle["kadm-idle"].State != "Empty" {
		t.Fatalf("idle group %+v", idle["kadm-idle"])
	}

	deleted, err := adm.DeleteGroups(ctx, "kadm-idle", "kadm-live", "kadm-never")
	mustf(t, err, "delete groups")
	if deleted["kadm-idle"].Err != nil || !errors.Is(deleted["kadm-live"].Err, kerr.NonEmptyGroup) || !errors.Is(deleted["kadm-never"].Err, kerr.GroupIDNotFound) {
		t.Fatalf("delete groups: %+v", deleted)
	}
	fetched, err = adm.FetchOffsets(ctx, "kadm-idle")
	mustf(t, err, "fetch offsets of a deleted group")
	if len(fetched.Offsets()) != 0 {
		t.Fatalf("deleted group still has offsets %+v", fetched)
	}
}

func TestSaramaClusterAdmin(t *testing.T) {
	tb := startBroker(t, "")
	cfg := sarama.NewConfig()
	cfg.Version = sarama.MaxVersion
	cfg.ClientID = "sarama-admin"
	admin, err := sarama.NewClusterAdmin([]string{tb.Addr}, cfg)
	mustf(t, err, "sarama cluster admin")
	defer admin.Close()

	retention := "60000"
	mustf(t, admin.CreateTopic("sarama-topic", &sarama.TopicDetail{
		NumPartitions: 2, ReplicationFactor: 1, ConfigEntries: map[string]*string{"retention.ms": &retention},
	}, false), "create topic")
	if info, ok := tb.Broker.Topic("sarama-topic"); !ok || info.Partitions != 2 || info.Configs["retention.ms"] != "60000" {
		t.Fatalf("broker has %+v", info)
	}
	var topicErr *sarama.TopicError
	if err := admin.CreateTopic("sarama-topic", &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); !errors.As(err, &topicErr) || topicErr.Err != sarama.ErrTopicAlreadyExists {
		t.Fatalf("creating it again: %v", err)
	}

	topics, err := admin.ListTopics()
	mustf(t, err, "list topics")
	if d, ok := topics["sarama-topic"]; !ok || d.NumPartitions != 2 || d.ReplicationFactor != 1 || d.ConfigEntries["retention.ms"] == nil || *d.ConfigEntries["retention.ms"] != "60000" {
		t.Fatalf("listed %+v", topics)
	}

	described, err := admin.DescribeConfigs([]*sarama.ConfigResource{
		{Type: sarama.TopicResource, Name: "sarama-topic"},
		{Type: sarama.BrokerResource, Name: "1", ConfigNames: []string{"broker.id"}},
	}, sarama.DescribeConfigsOptions{IncludeSynonyms: true, IncludeDocumentation: true})
	mustf(t, err, "describe configs")
	if len(described) != 2 || described[0].ErrorCode != sarama.ErrNoError || described[1].ErrorCode != sarama.ErrNoError {
		t.Fatalf("described %+v", described)
	}
	found := false
	for _, e := range described[0].Configs {
		if e.Name == "retention.ms" {
			found = true
			if e.Value != "60000" || e.Default || e.Source != sarama.SourceTopic || e.Type != sarama.LongConfigType ||
				len(e.Synonyms) != 2 || e.Synonyms[1].Source != sarama.SourceDefault {
				t.Fatalf("retention.ms described as %+v", e)
			}
		}
	}
	if !found || len(described[0].Configs) < 20 {
		t.Fatalf("described %d configs, retention.ms found %v", len(described[0].Configs), found)
	}
	if bc := described[1].Configs; len(bc) != 1 || bc[0].Value != "1" || !bc[0].ReadOnly {
		t.Fatalf("broker configs %+v", bc)
	}

	// AlterConfig replaces every config; IncrementalAlterConfig changes one.
	segment := "3600000"
	mustf(t, admin.AlterConfig(sarama.TopicResource, "sarama-topic", map[string]*string{"segment.ms": &segment}, false), "alter config")
	if got, _ := tb.Broker.Topic("sarama-topic"); len(got.Configs) != 1 || got.Configs["segment.ms"] != "3600000" {
		t.Fatalf("after AlterConfig: %v", got.Configs)
	}
	mustf(t, admin.IncrementalAlterConfig(sarama.TopicResource, "sarama-topic", map[string]sarama.IncrementalAlterConfigsEntry{
		"retention.ms": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &retention},
	}, false), "incremental alter config")
	if got, _ := tb.Broker.Topic("sarama-topic"); len(got.Configs) != 2 || got.Configs["retention.ms"] != "60000" {
		t.Fatalf("after IncrementalAlterConfig: %v", got.Configs)
	}

	mustf(t, admin.DeleteTopic("sarama-topic"), "delete topic")
	if _, ok := tb.Broker.Topic("sarama-topic"); ok {
		t.Fatal("deleted topic still exists")
	}
	if err := admin.DeleteTopic("sarama-topic"); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
		t.Fatalf("deleting it again: %v", err)
	}
}

// TestAdminStateSurvivesRestart creates topics and commits offsets, restarts
// the broker, and expects both back, with a group consumer resuming at the
// committed offset.
func TestAdminStateSurvivesRestart(t *testing.T) {
	tb := startBroker(t, "")
	adm := adminClient(t, tb.Addr)
	ctx := adminContext(t)
	_, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("86400000")}, "durable")
	mustf(t, err, "create topic")
	before, _ := tb.Broker.Topic("durable")
	groupProduce(t, tb.Addr, "durable", 0, 100)

	var offsets kadm.Offsets
	offsets.Add(kadm.Offset{Topic: "durable", Partition: 0, At: 7, LeaderEpoch: -1})
	offsets.Add(kadm.Offset{Topic: "durable", Partition: 1, At: 11, LeaderEpoch: -1})
	mustf(t, adm.CommitAllOffsets(ctx, "durable-group", offsets), "commit")

	tb.Restart(t)
	adm = adminClient(t, tb.Addr)

	listed, err := adm.ListTopics(ctx, "durable")
	mustf(t, err, "list topics after restart")
	if d := listed["durable"]; d.Err != nil || len(d.Partitions) != 2 || [16]byte(d.ID) != before.ID {
		t.Fatalf("after restart: %+v", d)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, "durable")
	mustf(t, err, "describe configs after restart")
	if c := adminConfig(t, configs[0], "retention.ms"); c.MaybeValue() != "86400000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms after restart: %+v", c)
	}
	fetched, err := adm.FetchOffsets(ctx, "durable-group")
	mustf(t, err, "fetch offsets after restart")
	for p, want := range map[int32]int64{0: 7, 1: 11} {
		if o, ok := fetched.Lookup("durable", p); !ok || o.At != want {
			t.Fatalf("partition %d after restart: %+v, want %d", p, o, want)
		}
	}

	// A consumer of the group starts at the committed offsets.
	cl, err := kgo.NewClient(kgo.SeedBrokers(tb.Addr), kgo.ConsumerGroup("durable-group"), kgo.ConsumeTopics("durable"),
		kgo.DisableAutoCommit(), kgo.FetchMaxWait(200*time.Millisecond))
	mustf(t, err, "consumer")
	defer cl.Close()
	first := map[int32]int64{}
	for len(first) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if _, ok := first[r.Partition]; !ok {
				first[r.Partition] = r.Offset
			}
		})
	}
	if first[0] != 7 || first[1] != 11 {
		t.Fatalf("consumer resumed at %v, want partition 0 at 7 and 1 at 11", first)
	}
}
