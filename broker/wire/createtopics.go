package wire

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// createTopics creates each topic on its own: one topic's failure does not
// stop the others. TimeoutMillis is not needed, since a creation is durable
// before its answer.
func (a *adminHandlers) createTopics(ctx context.Context, _ *RequestContext, req *kmsg.CreateTopicsRequest) (Response, error) {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	dup := repeated(req.Topics, func(t kmsg.CreateTopicsRequestTopic) string { return t.Topic })
	answered := make(map[string]bool, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		if answered[rt.Topic] {
			continue
		}
		answered[rt.Topic] = true
		res := kmsg.NewCreateTopicsResponseTopic()
		res.Topic = rt.Topic
		var err error
		if dup[rt.Topic] {
			err = newAdminError(kerr.InvalidRequest, "topic %q is named more than once in the request", rt.Topic)
		} else {
			err = a.createTopic(ctx, req, rt, &res)
		}
		if err != nil {
			res.ErrorCode = adminErrorCode(err)
			if req.Version >= 1 {
				res.ErrorMessage = errorMessage(err)
			}
		}
		resp.Topics = append(resp.Topics, res)
	}
	return Message(resp), nil
}

// createTopic creates (or with ValidateOnly, checks) one topic and fills in
// what v5+ reports about it.
func (a *adminHandlers) createTopic(ctx context.Context, req *kmsg.CreateTopicsRequest, rt *kmsg.CreateTopicsRequestTopic, res *kmsg.CreateTopicsResponseTopic) error {
	spec, err := a.topicSpec(rt)
	if err != nil {
		return err
	}
	if err := a.b.CreateTopic(ctx, spec, req.ValidateOnly); err != nil {
		return err
	}
	var entries []broker.ConfigEntry
	partitions := spec.Partitions
	if req.ValidateOnly {
		entries = topicConfigEntries(spec.Configs)
	} else {
		info, ok := a.b.Topic(spec.Name)
		if !ok {
			// Deleted already by a concurrent request: the creation
			// happened, there is just nothing left to describe.
			return nil
		}
		partitions, res.TopicID = info.Partitions, info.ID
		// An error here, like the missing topic above, means a concurrent
		// deletion; the configs are then left out.
		entries, _ = a.b.TopicConfigs(spec.Name)
	}
	if req.Version < 5 {
		return nil
	}
	// A validate-only creation asking for the default partition count
	// reports -1: the broker does not expose num.partitions.
	res.NumPartitions, res.ReplicationFactor = partitions, 1
	for _, c := range describeTopicConfigs(entries) {
		rc := kmsg.NewCreateTopicsResponseTopicConfig()
		rc.Name, rc.Value, rc.Source = c.name, kmsg.StringPtr(c.value), int8(c.source)
		res.Configs = append(res.Configs, rc)
	}
	return nil
}

// topicSpec checks what the broker cannot judge alone (a request's shape,
// and Kafka's rules that a single node is stricter about) and builds the
// creation's spec.
func (a *adminHandlers) topicSpec(rt *kmsg.CreateTopicsRequestTopic) (broker.TopicSpec, error) {
	spec := broker.TopicSpec{Name: rt.Topic, Partitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor}
	switch {
	case len(rt.ReplicaAssignment) > 0:
		return spec, newAdminError(kerr.InvalidRequest,
			"topic %q: replica assignments are not supported by this single-node broker; give a partition count instead", rt.Topic)
	case rt.NumPartitions == 0 || rt.NumPartitions < -1:
		return spec, newAdminError(kerr.InvalidPartitions,
			"topic %q: %d partitions; the count must be positive, or -1 for the broker default", rt.Topic, rt.NumPartitions)
	case rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1:
		return spec, newAdminError(kerr.InvalidReplicationFactor,
			"topic %q: replication factor %d; this single-node broker keeps 1 replica (give 1, or -1 for the default)", rt.Topic, rt.ReplicationFactor)
	}
	if len(rt.Configs) > 0 {
		spec.Configs = make(map[string]string, len(rt.Configs))
	}
	for _, c := range rt.Configs {
		if _, dup := spec.Configs[c.Name]; dup {
			return spec, newAdminError(kerr.InvalidRequest, "topic %q: config %q is given more than once", rt.Topic, c.Name)
		}
		if c.Value == nil {
			return spec, newAdminError(kerr.InvalidConfig, "topic %q: config %q has a null value", rt.Topic, c.Name)
		}
		spec.Configs[c.Name] = *c.Value
	}
	return spec, a.checkCollision(rt.Topic)
}

// checkCollision applies Kafka's rule that two topics may not differ only
// in '.' versus '_', since both become '_' in metric names.
func (a *adminHandlers) checkCollision(name string) error {
	if !strings.ContainsAny(name, "._") {
		return nil
	}
	norm := strings.ReplaceAll(name, ".", "_")
	for _, t := range a.b.Topics() {
		if t.Name != name && strings.ReplaceAll(t.Name, ".", "_") == norm {
			return newAdminError(kerr.InvalidTopicException, "topic %q collides with existing topic %q: '.' and '_' are the same in metric names", name, t.Name)
		}
	}
	return nil
}
