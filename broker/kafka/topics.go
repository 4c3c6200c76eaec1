package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
)

// CreateTopics creates topics through the cluster's admin API and waits
// until each has a leader for every partition. A topic that already exists
// is fine if it has the partition count asked for (any count when the spec
// asks for the default, -1 or 0) and, when the spec sets cleanup.policy,
// that policy; otherwise the error names the topic, what it has and what
// was wanted (broker.ErrInvalidPartitions or broker.ErrInvalidConfig).
func (c *Client) CreateTopics(ctx context.Context, topics ...broker.TopicSpec) error {
	var errs []error
	for _, t := range topics {
		if err := c.createTopic(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("kafka: create topic %s: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Client) createTopic(ctx context.Context, t broker.TopicSpec) error {
	detail := &sarama.TopicDetail{NumPartitions: t.Partitions, ReplicationFactor: t.ReplicationFactor}
	if detail.NumPartitions <= 0 {
		detail.NumPartitions = -1
	}
	if detail.ReplicationFactor <= 0 {
		detail.ReplicationFactor = -1
	}
	if len(t.Configs) > 0 {
		detail.ConfigEntries = make(map[string]*string, len(t.Configs))
		for k, v := range t.Configs {
			detail.ConfigEntries[k] = &v
		}
	}
	_, err := call(c, ctx, func() (struct{}, error) {
		return struct{}{}, mapErr(c.admin.CreateTopic(t.Name, detail, false))
	})
	switch {
	case errors.Is(err, broker.ErrTopicExists):
		return c.checkExisting(ctx, t)
	case err != nil:
		return err
	}
	return c.awaitLeaders(ctx, t.Name)
}

// checkExisting compares an existing topic with the spec.
func (c *Client) checkExisting(ctx context.Context, t broker.TopicSpec) error {
	if err := c.awaitLeaders(ctx, t.Name); err != nil {
		return err
	}
	n, err := c.Partitions(ctx, t.Name)
	if err != nil {
		return err
	}
	if t.Partitions > 0 && n != t.Partitions {
		return fmt.Errorf("%w: %s has %d partitions, %d wanted", broker.ErrInvalidPartitions, t.Name, n, t.Partitions)
	}
	want, ok := t.Configs["cleanup.policy"]
	if !ok {
		return nil
	}
	results, err := call(c, ctx, func() ([]*sarama.ConfigResourceResult, error) {
		res := &sarama.ConfigResource{Type: sarama.TopicResource, Name: t.Name, ConfigNames: []string{"cleanup.policy"}}
		return c.admin.DescribeConfigs([]*sarama.ConfigResource{res}, sarama.DescribeConfigsOptions{})
	})
	if err != nil {
		return fmt.Errorf("describe configs: %w", mapErr(err))
	}
	for _, r := range results {
		if r.Name != t.Name {
			continue
		}
		if err := codeError(r.ErrorCode); err != nil {
			return fmt.Errorf("describe configs: %w: %s", err, r.ErrorMsg)
		}
		for _, e := range r.Configs {
			if e.Name == "cleanup.policy" && !samePolicy(e.Value, want) {
				return fmt.Errorf("%w: %s has cleanup.policy=%s, %s wanted", broker.ErrInvalidConfig, t.Name, e.Value, want)
			}
		}
	}
	return nil
}

// samePolicy compares cleanup.policy values as sets ("compact,delete").
func samePolicy(a, b string) bool {
	norm := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// awaitLeaders waits until metadata shows the topic with a leader for
// every partition: a new topic's metadata reaches brokers a moment after
// CreateTopics returns. It gives up after Config.RequestTimeout.
func (c *Client) awaitLeaders(ctx context.Context, topic string) error {
	deadline := time.Now().Add(c.cfg.RequestTimeout)
	for {
		_, err := call(c, ctx, func() (struct{}, error) {
			if err := c.sc.RefreshMetadata(topic); err != nil {
				return struct{}{}, mapErr(err)
			}
			parts, err := c.sc.Partitions(topic)
			if err != nil {
				return struct{}{}, mapErr(err)
			}
			for _, p := range parts {
				if _, err := c.sc.Leader(topic, p); err != nil {
					return struct{}{}, mapErr(err)
				}
			}
			return struct{}{}, nil
		})
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Partitions returns a topic's partition count, or broker.ErrUnknownTopic.
func (c *Client) Partitions(ctx context.Context, topic string) (int32, error) {
	parts, err := call(c, ctx, func() ([]int32, error) {
		return c.sc.Partitions(topic)
	})
	if err != nil {
		return 0, fmt.Errorf("kafka: partitions of %s: %w", topic, mapErr(err))
	}
	return int32(len(parts)), nil
}
