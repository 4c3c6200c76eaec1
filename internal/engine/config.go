package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/eddy-streams/eddy/broker"
)

// PolicyKind says what happens to a record that cannot be deserialized or
// whose processing failed.
type PolicyKind int

const (
	// Fail stops the application with an error naming the record's topic,
	// partition and offset (the default).
	Fail PolicyKind = iota
	// LogAndContinue logs the record's coordinates and the error, counts
	// it, and goes on with the next record.
	LogAndContinue
	// DeadLetter writes the record's original bytes to a topic, with the
	// error and coordinates in headers, and goes on.
	DeadLetter
)

// Policy is an error-handling policy.
type Policy struct {
	Kind  PolicyKind
	Topic string // for DeadLetter
}

// Config configures an engine.
type Config struct {
	// AppID is the application id: the consumer group, the prefix of
	// internal topics and of the state directory.
	AppID string
	// Client reaches the topics.
	Client broker.Client
	// StateDir holds the tasks' local stores and checkpoints.
	StateDir string
	// CommitInterval is commit.interval.ms (default 30 s, Kafka Streams'
	// at-least-once default).
	CommitInterval time.Duration
	// Linger is the producer's linger.ms: how long a batch of output
	// records may stay open before it is appended (default 100 ms, what
	// Kafka Streams sets for its producers; negative: appended at the end
	// of each processing round). Batches of 256 KiB are appended at once,
	// every open batch at a commit, and a worker that finds nothing to
	// process appends its open batches at once: they linger only while
	// more records may join them. Without it, a quiet output
	// partition would wait a whole commit interval, and records of other
	// workers would reach a repartition topic in commit-sized bursts, far
	// out of event-time order.
	Linger time.Duration
	// MaxTaskDrift bounds how far in event time a task of a sub-topology
	// that writes a repartition topic may run ahead of the earliest record
	// waiting in the other tasks of its sub-topology in this instance
	// (default 1 s; negative: unbounded). See align.go.
	MaxTaskDrift time.Duration
	// Threads is num.stream.threads: goroutines processing tasks (default 1).
	Threads int
	// CacheMaxBytes bounds the stores' write-back caches together
	// (default 10 MiB, statestore.cache.max.bytes): each store is sure of
	// an equal share and may use more while the others leave room
	// (storage.CacheBudget).
	CacheMaxBytes int
	// InMemoryStores uses memory stores instead of LevelDB everywhere.
	InMemoryStores bool
	// OnDeserializeError and OnProcessingError are the error policies.
	OnDeserializeError Policy
	OnProcessingError  Policy
	// FetchMaxBytes is the most one fetch of one partition returns (1 MiB).
	FetchMaxBytes int
	// PollWait is how long a fetch waits for data (default 100 ms).
	PollWait time.Duration
	// ApplicationServer is this instance's endpoint for interactive
	// queries, host:port (Kafka Streams' application.server). Instances in
	// a group tell each other theirs, so that any of them can say which
	// one holds a key (Engine.StoreOwner).
	ApplicationServer string
	// StandbyReplicas is num.standby.replicas: how many other instances
	// keep a warm copy of each stateful task's stores, so that the task
	// restores only a short tail when it moves to one of them (default 0).
	StandbyReplicas int
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout tune the
	// group membership of clients that support it (broker.GroupCapable):
	// how long a silent instance keeps its tasks, how often it says it is
	// alive, and how long a rebalance waits for the others to rejoin
	// (defaults 45 s, 3 s and 5 min, Kafka Streams').
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// Logger, Now: logging and the wall clock (fakes in tests).
	Logger *slog.Logger
	Now    func() time.Time
}

// ErrConfig reports an unusable configuration.
var ErrConfig = errors.New("engine: invalid config")

func (c *Config) validate() error {
	switch {
	case c.AppID == "":
		return fmt.Errorf("%w: no application id", ErrConfig)
	case c.Client == nil:
		return fmt.Errorf("%w: no client", ErrConfig)
	case c.StateDir == "" && !c.InMemoryStores:
		return fmt.Errorf("%w: no state directory (set one, or use in-memory stores)", ErrConfig)
	case c.OnDeserializeError.Kind == DeadLetter && c.OnDeserializeError.Topic == "",
		c.OnProcessingError.Kind == DeadLetter && c.OnProcessingError.Topic == "":
		return fmt.Errorf("%w: a dead-letter policy needs a topic", ErrConfig)
	case c.StandbyReplicas < 0:
		return fmt.Errorf("%w: %d standby replicas", ErrConfig, c.StandbyReplicas)
	case c.SessionTimeout < 0, c.HeartbeatInterval < 0, c.RebalanceTimeout < 0:
		return fmt.Errorf("%w: negative group timeout", ErrConfig)
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = 30 * time.Second
	}
	if c.Threads <= 0 {
		c.Threads = 1
	}
	if c.MaxTaskDrift == 0 {
		c.MaxTaskDrift = time.Second
	}
	switch {
	case c.Linger == 0:
		c.Linger = 100 * time.Millisecond
	case c.Linger < 0:
		c.Linger = 0
	}
	if c.CacheMaxBytes <= 0 {
		c.CacheMaxBytes = 10 << 20
	}
	if c.FetchMaxBytes <= 0 {
		c.FetchMaxBytes = 1 << 20
	}
	if c.PollWait <= 0 {
		c.PollWait = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
