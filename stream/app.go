package stream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/storage"
)

// Config configures an App. Client and StateDir are required; the rest
// default as in Kafka Streams.
type Config struct {
	// Client reaches the topics: broker.Embedded's Client in process, or a
	// Kafka cluster's.
	Client broker.Client
	// StateDir holds local state stores (state.dir).
	StateDir string
	// CommitInterval is commit.interval.ms (default 30 s).
	CommitInterval time.Duration
	// Linger is the producer's linger.ms: how long output records may wait
	// in an open batch before it is appended (default 100 ms, as Kafka
	// Streams sets it; negative: appended after each processing round).
	// Batches linger only while their thread has more records to process:
	// an idle thread appends them at once.
	Linger time.Duration
	// MaxTaskDrift bounds how far ahead in event time a task writing a
	// repartition topic may run of the other tasks of its sub-topology in
	// this instance that have records waiting (default 1 s; negative:
	// unbounded). Downstream windows see the records of all those tasks
	// mixed in one partition, so without it a task that runs ahead (its
	// worker less loaded, say, while catching up on a backlog) makes the
	// others' records late. Downstream then sees records out of order by
	// up to about MaxTaskDrift and a quarter: keep it below the windows'
	// grace. A larger value processes a backlog faster, since the tasks
	// wait less for each other (and for each other's appends). Across
	// instances only the grace period absorbs such skew.
	MaxTaskDrift time.Duration
	// Threads is num.stream.threads (default 1).
	Threads int
	// CacheMaxBytes is statestore.cache.max.bytes (default 10 MiB): the
	// bound of all the instance's store caches together, of which a busy
	// store can use what quiet ones leave.
	CacheMaxBytes int
	// InMemoryStores keeps every store in memory (state is rebuilt from
	// changelogs at each start).
	InMemoryStores bool
	// OnDeserializationError and OnProcessingError choose what happens to
	// a record whose key or value cannot be read, or whose processing
	// failed or panicked: FailOnError (default), LogAndContinue, or
	// DeadLetterTo(topic).
	OnDeserializationError ErrorPolicy
	OnProcessingError      ErrorPolicy
	// ApplicationServer is this instance's endpoint for interactive
	// queries, host:port (application.server). With a client that supports
	// group membership, instances share theirs, so that any instance can
	// tell which one holds a key.
	ApplicationServer string
	// StandbyReplicas is num.standby.replicas (default 0): how many other
	// instances keep a warm copy of each stateful task's stores, tailing
	// its changelog, so that a task moving to one of them after a failure
	// replays only a short tail.
	StandbyReplicas int
	// SessionTimeout, HeartbeatInterval and RebalanceTimeout tune group
	// membership (session.timeout.ms, heartbeat.interval.ms,
	// max.poll.interval.ms; defaults 45 s, 3 s, 5 min): an instance that
	// stops heartbeating loses its tasks to the others after
	// SessionTimeout. They apply to clients that support membership
	// (broker.GroupCapable: a Kafka cluster's, or the embedded broker's
	// SharedEmbedded), with which several instances of an app split its
	// tasks; with any other client one instance runs every task.
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration
	RebalanceTimeout  time.Duration
	// Logger receives the app's messages (default: discarded).
	Logger *slog.Logger
	// Now is the wall clock, for tests (default time.Now).
	Now func() time.Time
}

// ErrorPolicy is what happens to a bad record.
type ErrorPolicy struct{ p engine.Policy }

// FailOnError stops the app with an error naming the record's topic,
// partition and offset.
func FailOnError() ErrorPolicy { return ErrorPolicy{engine.Policy{Kind: engine.Fail}} }

// LogAndContinue logs the record's coordinates and the error, counts it,
// and goes on.
func LogAndContinue() ErrorPolicy { return ErrorPolicy{engine.Policy{Kind: engine.LogAndContinue}} }

// DeadLetterTo writes the record's original bytes to topic with headers
// eddy.error, eddy.error.kind, eddy.topic, eddy.partition, eddy.offset and
// eddy.task, and goes on.
func DeadLetterTo(topic string) ErrorPolicy {
	return ErrorPolicy{engine.Policy{Kind: engine.DeadLetter, Topic: topic}}
}

// App is a topology bound to a backend, ready to run.
type App struct {
	b   *Builder
	eng *engine.Engine
}

// NewApp checks the topology and the configuration.
func NewApp(b *Builder, cfg Config) (*App, error) {
	if err := b.b.Err(); err != nil {
		return nil, fmt.Errorf("stream: topology %s: %w", b.b.AppID, err)
	}
	eng, err := engine.New(b.b.Topo, engine.Config{
		AppID: b.b.AppID, Client: cfg.Client, StateDir: cfg.StateDir,
		CommitInterval: cfg.CommitInterval, Linger: cfg.Linger, MaxTaskDrift: cfg.MaxTaskDrift, Threads: cfg.Threads, CacheMaxBytes: cfg.CacheMaxBytes,
		InMemoryStores: cfg.InMemoryStores, OnDeserializeError: cfg.OnDeserializationError.p,
		OnProcessingError: cfg.OnProcessingError.p, Logger: cfg.Logger, Now: cfg.Now,
		ApplicationServer: cfg.ApplicationServer, StandbyReplicas: cfg.StandbyReplicas,
		SessionTimeout: cfg.SessionTimeout, HeartbeatInterval: cfg.HeartbeatInterval, RebalanceTimeout: cfg.RebalanceTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("stream: app %s: %w", b.b.AppID, err)
	}
	return &App{b: b, eng: eng}, nil
}

// Run runs the app until ctx ends (it then commits and returns nil) or a
// record fails under the FailOnError policy (it returns that error).
func (a *App) Run(ctx context.Context) error { return a.eng.Run(ctx) }

// Ready is closed once the app has restored its state and is processing.
func (a *App) Ready() <-chan struct{} { return a.eng.Ready() }

// Stats are counters of a running app.
type Stats struct {
	Commits int64
	// BadRecords counts records skipped, dead-lettered, or failed.
	BadRecords int64
	// Records counts the input records the app's tasks have processed,
	// those read back from its internal topics included.
	Records int64
}

// Stats returns the app's counters.
func (a *App) Stats() Stats {
	s := a.eng.Stats()
	return Stats{Commits: s.Commits, BadRecords: s.Errors, Records: s.Records}
}

// Internal is for eddy's own DSL packages (interactive queries).
func (a *App) Internal() *engine.Engine { return a.eng }

// Store is for eddy's own DSL packages: the store of one partition.
func (a *App) Store(name string, partition int32) (storage.Store, error) {
	return a.eng.Store(name, partition)
}

// ProcessingError is the error Run returns when a record fails under the
// FailOnError policy: it names the record's topic, partition and offset and
// wraps the cause (a serde error, a user panic with its stack, ...).
type ProcessingError = engine.ProcessingError
