package broker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/google/uuid"
)

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name string
	// Partitions is the partition count; -1 or 0 means the broker default.
	Partitions int32
	// ReplicationFactor must be -1 (default) or 1 on a single node.
	ReplicationFactor int16
	// Configs are topic configs by Kafka name (cleanup.policy, retention.ms…).
	Configs map[string]string
}

// TopicInfo describes an existing topic.
type TopicInfo struct {
	Name       string
	ID         [16]byte
	Partitions int32
	Internal   bool
	// Configs holds the configs set explicitly on the topic.
	Configs map[string]string
}

// ConfigEntry is one topic config as DescribeConfigs reports it.
type ConfigEntry struct {
	Name      string
	Value     string
	IsDefault bool
}

const maxTopicNameLength = 249

// validTopicName applies Kafka's rules: 1 to 249 characters of
// [a-zA-Z0-9._-], and not "." or "..".
func validTopicName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxTopicNameLength {
		return fmt.Errorf("%w: name %q: must be 1-%d characters, other than \".\" and \"..\"", ErrInvalidTopic, name, maxTopicNameLength)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: name %q contains %q; allowed are ASCII letters, digits, '.', '_' and '-'", ErrInvalidTopic, name, c)
		}
	}
	return nil
}

// CreateTopic creates a topic with its partition logs, durably. With
// validateOnly it only checks that the creation would succeed.
func (b *Broker) CreateTopic(_ context.Context, spec TopicSpec, validateOnly bool) error {
	if err := validTopicName(spec.Name); err != nil {
		return err
	}
	if spec.ReplicationFactor != -1 && spec.ReplicationFactor != 0 && spec.ReplicationFactor != 1 {
		return fmt.Errorf("%w: %d requested, this single-node broker has 1 replica", ErrInvalidReplication, spec.ReplicationFactor)
	}
	n := spec.Partitions
	switch {
	case n == -1 || n == 0:
		n = b.cfg.DefaultPartitions
	case n < 0:
		return fmt.Errorf("%w: %d (use -1 for the default)", ErrInvalidPartitions, n)
	}
	if _, err := logConfig(spec.Configs, b.logBase()); err != nil {
		return fmt.Errorf("topic %s: %w", spec.Name, err)
	}
	b.mu.RLock()
	_, exists := b.topics[spec.Name]
	closed := b.closed
	b.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case exists:
		return fmt.Errorf("%w: %s", ErrTopicExists, spec.Name)
	case validateOnly:
		return nil
	}
	return b.createTopic(spec.Name, n, spec.Configs, false)
}

// createTopic opens the partition logs first and records the topic after,
// so a crash in between leaves only directories that Open removes.
func (b *Broker) createTopic(name string, partitions int32, configs map[string]string, locked bool) error {
	if !locked {
		b.mu.Lock()
		defer b.mu.Unlock()
	}
	if _, exists := b.topics[name]; exists {
		return fmt.Errorf("%w: %s", ErrTopicExists, name)
	}
	tm := topicMeta{ID: uuid.New(), Partitions: partitions, Configs: maps.Clone(configs)}
	t, err := b.openTopic(name, tm)
	if err != nil {
		return err
	}
	m := b.meta.clone()
	m.Topics[name] = tm
	if err := saveMetadata(b.fs, b.cfg.Dir, m); err != nil {
		for _, p := range t.partitions {
			p.log.Close()
		}
		return err
	}
	b.meta = m
	b.topics[name] = t
	b.cfg.Logger.Info("created topic", "topic", name, "partitions", partitions, "configs", configs)
	return nil
}

// EnsureTopic creates a topic with the default partition count if it does
// not exist and auto-creation is enabled (auto.create.topics.enable).
func (b *Broker) EnsureTopic(ctx context.Context, name string) error {
	if _, ok := b.Topic(name); ok {
		return nil
	}
	if b.cfg.DisableAutoCreateTopics {
		return fmt.Errorf("%w: %s (auto-creation is disabled)", ErrUnknownTopic, name)
	}
	err := b.CreateTopic(ctx, TopicSpec{Name: name, Partitions: -1, ReplicationFactor: -1}, false)
	if err != nil && !errors.Is(err, ErrTopicExists) {
		return err
	}
	return nil
}

// DeleteTopic forgets a topic durably, then closes and removes its logs.
func (b *Broker) DeleteTopic(_ context.Context, name string) error {
	b.mu.Lock()
	t, ok := b.topics[name]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	if t.internal {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s is internal and cannot be deleted", ErrInvalidTopic, name)
	}
	m := b.meta.clone()
	delete(m.Topics, name)
	if err := saveMetadata(b.fs, b.cfg.Dir, m); err != nil {
		b.mu.Unlock()
		return err
	}
	b.meta = m
	delete(b.topics, name)
	b.mu.Unlock()
	for _, p := range t.partitions {
		p.log.Close()
		dir := filepath.Join(b.cfg.Dir, partitionDirName(name, p.Index))
		if err := b.fs.RemoveAll(dir); err != nil {
			b.cfg.Logger.Error("could not remove deleted topic's partition; it goes at next start", "dir", dir, "err", err)
		}
	}
	b.cfg.Logger.Info("deleted topic", "topic", name)
	return b.fs.SyncDir(b.cfg.Dir)
}

// Topic describes one topic.
func (b *Broker) Topic(name string) (TopicInfo, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t, ok := b.topics[name]
	if !ok {
		return TopicInfo{}, false
	}
	return t.info(), true
}

// Topics describes every topic, sorted by name.
func (b *Broker) Topics() []TopicInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]TopicInfo, 0, len(b.topics))
	for _, name := range slices.Sorted(maps.Keys(b.topics)) {
		out = append(out, b.topics[name].info())
	}
	return out
}

func (t *topic) info() TopicInfo {
	return TopicInfo{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions)), Internal: t.internal, Configs: maps.Clone(t.configs)}
}

// TopicConfigs returns every config of a topic with its value and whether
// it is the default.
func (b *Broker) TopicConfigs(name string) ([]ConfigEntry, error) {
	b.mu.RLock()
	t, ok := b.topics[name]
	b.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	var out []ConfigEntry
	for _, n := range TopicConfigNames() {
		if v, set := t.configs[n]; set {
			out = append(out, ConfigEntry{Name: n, Value: v})
		} else {
			out = append(out, ConfigEntry{Name: n, Value: topicConfigDefaults[n], IsDefault: true})
		}
	}
	return out, nil
}

// ConfigOp is an incremental config change, as IncrementalAlterConfigs
// sends: set a value or delete it (back to the default).
type ConfigOp struct {
	Name   string
	Value  string
	Delete bool
}

// AlterTopicConfigs changes a topic's configs durably and applies them to
// its partition logs. With replace set, configs not named are reset to
// their defaults (the old AlterConfigs semantics).
func (b *Broker) AlterTopicConfigs(_ context.Context, name string, ops []ConfigOp, replace, validateOnly bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownTopic, name)
	}
	configs := maps.Clone(t.configs)
	if replace || configs == nil {
		configs = map[string]string{}
	}
	for _, op := range ops {
		if op.Delete {
			delete(configs, op.Name)
		} else {
			configs[op.Name] = op.Value
		}
	}
	lc, err := logConfig(configs, b.logBase())
	if err != nil {
		return fmt.Errorf("topic %s: %w", name, err)
	}
	if validateOnly {
		return nil
	}
	m := b.meta.clone()
	tm := m.Topics[name]
	tm.Configs = configs
	m.Topics[name] = tm
	if err := saveMetadata(b.fs, b.cfg.Dir, m); err != nil {
		return err
	}
	b.meta = m
	t.configs, t.logCfg = configs, lc
	for _, p := range t.partitions {
		if err := p.setConfig(lc); err != nil {
			return err
		}
	}
	return nil
}

// Partition returns one partition of a topic.
func (b *Broker) Partition(topic string, index int32) (*Partition, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t, ok := b.topics[topic]
	if !ok || index < 0 || int(index) >= len(t.partitions) {
		return nil, fmt.Errorf("%w: %s-%d", ErrUnknownTopic, topic, index)
	}
	return t.partitions[index], nil
}
