package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults follow the broker settings of Apache Kafka so that clients tuned
// for Kafka behave the same against eddy.
const (
	DefaultInitialRebalanceDelay  = 3 * time.Second
	DefaultMinSessionTimeout      = 6 * time.Second
	DefaultMaxSessionTimeout      = 30 * time.Minute
	DefaultOffsetsRetention       = 7 * 24 * time.Hour
	DefaultOffsetsRetentionCheck  = 10 * time.Minute
	DefaultOffsetMetadataMaxBytes = 4096

	// newMemberJoinTimeout bounds how long a brand-new member may sit in a
	// join that never completes (KIP-394): a client that dies between its
	// first JoinGroup and the end of the rebalance must not hold the group
	// up for the whole rebalance timeout of the others.
	newMemberJoinTimeout = 5 * time.Minute
)

// Config tunes a Coordinator. The zero value of every field means "Kafka's
// default", so Config{} is usable as is.
type Config struct {
	// Logger receives state transitions and journal failures. Nil discards.
	Logger *slog.Logger
	// Clock schedules every timeout. Nil means wall-clock time; tests inject
	// a fake so that they never sleep.
	Clock Clock
	// Topics resolves topic IDs (OffsetCommit/OffsetFetch v10+) and rejects
	// commits to unknown topics. Nil accepts every topic name and answers
	// UNKNOWN_TOPIC_ID to requests that address topics by ID.
	Topics TopicIndex

	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: the first
	// rebalance of an empty group waits this long for more members, and
	// again each time a member arrives, up to the rebalance timeout.
	// Negative disables the delay.
	InitialRebalanceDelay time.Duration
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout a
	// member may ask for (group.min/max.session.timeout.ms).
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxGroupSize is group.max.size; zero or negative means unbounded.
	MaxGroupSize int
	// OffsetsRetention is offsets.retention.minutes: how long the offsets of
	// a group stay after the group became empty (or, for groups that only
	// commit, after the offset was committed).
	OffsetsRetention time.Duration
	// OffsetsRetentionCheck is offsets.retention.check.interval.ms.
	OffsetsRetentionCheck time.Duration
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes.
	OffsetMetadataMaxBytes int
}

// Clock is the coordinator's only source of time.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started and reports whether it
	// did so. The coordinator never relies on the result: every callback
	// re-checks that it is still the current one.
	Stop() bool
}

// Journal makes coordinator state durable. The broker implements it by
// appending to its compacted __consumer_offsets topic. Append must return
// only once every record is durable, and must keep the order of records
// within a call and across calls that do not overlap in time.
//
// On error the coordinator assumes nothing was written and leaves its state
// unchanged, so a journal that cannot tell (say, an fsync failed after the
// write) must refuse further appends, as Kafka takes such a log directory
// offline. The context passed is the coordinator's, cancelled only by
// Close, never a request's: a client hanging up does not abandon an append.
//
// A Journal may return a *kerr.Error (for example kerr.NotCoordinator); its
// code is then answered to the client. Any other error is answered as
// COORDINATOR_NOT_AVAILABLE, which clients retry.
type Journal interface {
	Append(ctx context.Context, records []JournalRecord) error
}

// JournalRecord is one __consumer_offsets record. Key and Value use Kafka's
// own encodings (kmsg.OffsetCommitKey/Value, kmsg.GroupMetadataKey/Value), so
// Kafka tooling can read them. A nil Value is a tombstone.
type JournalRecord struct {
	Key, Value []byte
}

// TopicIndex is what the coordinator needs to know about the broker's topics.
type TopicIndex interface {
	// TopicID returns the ID of a topic, and false if the topic does not exist.
	TopicID(name string) (id [16]byte, ok bool)
	// TopicName returns the name of the topic with this ID.
	TopicName(id [16]byte) (name string, ok bool)
}

// ClientInfo describes the connection a request arrived on. Kafka carries the
// client id in the request header, not in the request body, so the wire layer
// passes it through the context with WithClientInfo.
type ClientInfo struct {
	// ID is the request header's client id; member ids start with it.
	ID string
	// Host is the client's address as Kafka shows it, e.g. "/127.0.0.1".
	Host string
}

type clientInfoKey struct{}

// WithClientInfo returns a context carrying info for the coordinator.
func WithClientInfo(ctx context.Context, info ClientInfo) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, info)
}

func clientInfoFrom(ctx context.Context) ClientInfo {
	info, _ := ctx.Value(clientInfoKey{}).(ClientInfo)
	return info
}

// ErrInvalidConfig is returned by NewCoordinator for contradictory settings.
var ErrInvalidConfig = errors.New("group: invalid config")

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	if cfg.InitialRebalanceDelay == 0 {
		cfg.InitialRebalanceDelay = DefaultInitialRebalanceDelay
	} else if cfg.InitialRebalanceDelay < 0 {
		cfg.InitialRebalanceDelay = 0
	}
	if cfg.MinSessionTimeout == 0 {
		cfg.MinSessionTimeout = DefaultMinSessionTimeout
	}
	if cfg.MaxSessionTimeout == 0 {
		cfg.MaxSessionTimeout = DefaultMaxSessionTimeout
	}
	if cfg.OffsetsRetention == 0 {
		cfg.OffsetsRetention = DefaultOffsetsRetention
	}
	if cfg.OffsetsRetentionCheck == 0 {
		cfg.OffsetsRetentionCheck = DefaultOffsetsRetentionCheck
	}
	if cfg.OffsetMetadataMaxBytes == 0 {
		cfg.OffsetMetadataMaxBytes = DefaultOffsetMetadataMaxBytes
	}
	switch {
	case cfg.MinSessionTimeout < 0 || cfg.MaxSessionTimeout < 0:
		return cfg, fmt.Errorf("%w: negative session timeout bound", ErrInvalidConfig)
	case cfg.MinSessionTimeout > cfg.MaxSessionTimeout:
		return cfg, fmt.Errorf("%w: MinSessionTimeout %v exceeds MaxSessionTimeout %v",
			ErrInvalidConfig, cfg.MinSessionTimeout, cfg.MaxSessionTimeout)
	case cfg.OffsetsRetention < 0 || cfg.OffsetsRetentionCheck < 0:
		return cfg, fmt.Errorf("%w: negative offsets retention", ErrInvalidConfig)
	case cfg.OffsetMetadataMaxBytes < 0:
		return cfg, fmt.Errorf("%w: negative OffsetMetadataMaxBytes", ErrInvalidConfig)
	}
	return cfg, nil
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
