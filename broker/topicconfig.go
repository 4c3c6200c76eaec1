package broker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/broker/log"
)

// topicConfigDefaults lists every topic config eddy accepts, with Kafka's
// default value. The first group changes how the partition log behaves; the
// rest are accepted and reported so that tools and frameworks which set them
// (Kafka Streams sets several on its internal topics) keep working, but a
// single-node broker has no use for them.
var topicConfigDefaults = map[string]string{
	"cleanup.policy":        "delete",
	"retention.ms":          "604800000",
	"retention.bytes":       "-1",
	"segment.bytes":         "1073741824",
	"segment.ms":            "604800000",
	"delete.retention.ms":   "86400000",
	"min.compaction.lag.ms": "0",
	"max.message.bytes":     "1048588",
	"index.interval.bytes":  "4096",

	"compression.type":                        "producer",
	"message.timestamp.type":                  "CreateTime",
	"min.insync.replicas":                     "1",
	"unclean.leader.election.enable":          "false",
	"flush.messages":                          "9223372036854775807",
	"flush.ms":                                "9223372036854775807",
	"segment.index.bytes":                     "10485760",
	"segment.jitter.ms":                       "0",
	"file.delete.delay.ms":                    "60000",
	"min.cleanable.dirty.ratio":               "0.5",
	"max.compaction.lag.ms":                   "9223372036854775807",
	"preallocate":                             "false",
	"message.downconversion.enable":           "true",
	"message.timestamp.difference.max.ms":     "9223372036854775807",
	"message.timestamp.before.max.ms":         "9223372036854775807",
	"message.timestamp.after.max.ms":          "9223372036854775807",
	"local.retention.ms":                      "-2",
	"local.retention.bytes":                   "-2",
	"remote.storage.enable":                   "false",
	"leader.replication.throttled.replicas":   "",
	"follower.replication.throttled.replicas": "",
}

// TopicConfigNames returns the names of the topic configs eddy accepts.
func TopicConfigNames() []string {
	return slices.Sorted(maps.Keys(topicConfigDefaults))
}

// TopicConfigDefault returns Kafka's default for a topic config.
func TopicConfigDefault(name string) (string, bool) {
	v, ok := topicConfigDefaults[name]
	return v, ok
}

// logConfig turns a topic's explicit configs into the partition log's
// configuration, rejecting unknown names and malformed values.
func logConfig(configs map[string]string, base log.Config) (log.Config, error) {
	cfg := base
	get := func(name string) string {
		if v, ok := configs[name]; ok {
			return v
		}
		return topicConfigDefaults[name]
	}
	for name := range configs {
		if _, ok := topicConfigDefaults[name]; !ok {
			return cfg, fmt.Errorf("%w: unknown topic config %q", ErrInvalidConfig, name)
		}
	}
	ms := func(name string, allowNegative bool) (time.Duration, error) {
		v, err := strconv.ParseInt(get(name), 10, 64)
		if err != nil || (v < 0 && !allowNegative) {
			return 0, fmt.Errorf("%w: %s=%q is not a valid number of milliseconds", ErrInvalidConfig, name, get(name))
		}
		if v < 0 {
			return -1, nil
		}
		return time.Duration(v) * time.Millisecond, nil
	}
	integer := func(name string, min int64) (int64, error) {
		v, err := strconv.ParseInt(get(name), 10, 64)
		if err != nil || v < min {
			return 0, fmt.Errorf("%w: %s=%q must be an integer >= %d", ErrInvalidConfig, name, get(name), min)
		}
		return v, nil
	}
	var err error
	cfg.Delete, cfg.Compact = false, false
	for _, p := range strings.Split(get("cleanup.policy"), ",") {
		switch strings.TrimSpace(p) {
		case "delete":
			cfg.Delete = true
		case "compact":
			cfg.Compact = true
		default:
			return cfg, fmt.Errorf("%w: cleanup.policy=%q: want delete, compact or both", ErrInvalidConfig, get("cleanup.policy"))
		}
	}
	if cfg.RetentionTime, err = ms("retention.ms", true); err != nil {
		return cfg, err
	}
	if cfg.RetentionBytes, err = integer("retention.bytes", -1); err != nil {
		return cfg, err
	}
	if cfg.SegmentBytes, err = integer("segment.bytes", 14); err != nil {
		return cfg, err
	}
	if cfg.SegmentBytes < 1024 || cfg.SegmentBytes > 1<<31-1 {
		return cfg, fmt.Errorf("%w: segment.bytes=%d outside [1024, 2147483647]", ErrInvalidConfig, cfg.SegmentBytes)
	}
	if cfg.SegmentAge, err = ms("segment.ms", false); err != nil {
		return cfg, err
	}
	if cfg.TombstoneRetention, err = ms("delete.retention.ms", false); err != nil {
		return cfg, err
	}
	if cfg.MinCompactionLag, err = ms("min.compaction.lag.ms", false); err != nil {
		return cfg, err
	}
	mb, err := integer("max.message.bytes", 0)
	if err != nil {
		return cfg, err
	}
	cfg.MaxBatchBytes = int(mb)
	ib, err := integer("index.interval.bytes", 0)
	if err != nil {
		return cfg, err
	}
	cfg.IndexIntervalBytes = int(ib)
	return cfg, nil
}
