package broker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/broker/vfs"
)

// Config configures an embedded broker. The zero value of each field means
// Kafka's default where Kafka has one.
type Config struct {
	// Dir is the data directory (log.dirs); required.
	Dir string
	// FS reaches the files; nil means the real filesystem.
	FS vfs.FS
	// Logger receives the broker's messages; nil discards them.
	Logger *slog.Logger
	// NodeID is this broker's node.id (default 1).
	NodeID int32
	// DisableAutoCreateTopics turns off auto.create.topics.enable, which
	// Kafka enables by default.
	DisableAutoCreateTopics bool
	// DefaultPartitions is num.partitions for auto-created topics and
	// creations that ask for the default (default 1).
	DefaultPartitions int32
	// Sync is the durability policy of every partition log; the default
	// fsyncs before acknowledging acks=all produce requests. SyncInterval is
	// the period of log.SyncInterval. SyncDelay is how long, under the
	// default policy, data nobody awaits or waits for may stay unsynced
	// (log.Config.SyncDelay; default 50 ms, negative: none).
	Sync         log.SyncPolicy
	SyncInterval time.Duration
	SyncDelay    time.Duration
	// Groups configures the consumer-group coordinator.
	Groups group.Config
	// MaintenanceInterval is how often retention and compaction run
	// (log.retention.check.interval.ms; default 30 s, shorter than Kafka's
	// 5 min because compaction runs on the same tick).
	MaintenanceInterval time.Duration
	// Now is the clock for retention and compaction; nil means time.Now.
	Now func() time.Time
}

// offsetsTopic is Kafka's internal topic for committed offsets and group
// metadata; the coordinator journals to it.
const offsetsTopic = "__consumer_offsets"

// pidBlock is how many producer ids are reserved per metadata write.
const pidBlock = 1000

// Broker is eddy's embedded single-node broker: topics of partition logs, a
// consumer-group coordinator and producer ids, behind a Go API that the
// Kafka protocol listener (package wire) and the in-process Client share.
type Broker struct {
	cfg  Config
	fs   vfs.FS
	lock io.Closer

	mu     sync.RWMutex
	meta   metadata
	topics map[string]*topic
	closed bool

	pidMu            sync.Mutex
	nextPID, pidEnd  int64
	groups           *group.Coordinator
	offsetsPartition *Partition

	stop chan struct{}
	done chan struct{}
}

type topic struct {
	name       string
	id         uuid.UUID
	configs    map[string]string
	logCfg     log.Config
	partitions []*Partition
	internal   bool
}

// Open opens (or creates) the broker's data directory, recovers every
// partition log, replays committed offsets and starts background retention
// and compaction.
func Open(cfg Config) (*Broker, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: no data directory", ErrInvalidConfig)
	}
	if cfg.FS == nil {
		cfg.FS = vfs.OS()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NodeID == 0 {
		cfg.NodeID = 1
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.MaintenanceInterval <= 0 {
		cfg.MaintenanceInterval = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Broker{cfg: cfg, fs: cfg.FS, topics: map[string]*topic{}, stop: make(chan struct{}), done: make(chan struct{})}
	if err := b.fs.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: create %s: %w", cfg.Dir, err)
	}
	if err := b.fs.SyncDir(filepath.Dir(filepath.Clean(cfg.Dir))); err != nil {
		return nil, fmt.Errorf("broker: sync parent of %s: %w", cfg.Dir, err)
	}
	lock, err := b.fs.Lock(filepath.Join(cfg.Dir, ".lock"))
	if err != nil {
		return nil, fmt.Errorf("broker: data directory %s is in use: %w", cfg.Dir, err)
	}
	b.lock = lock
	if err := b.load(); err != nil {
		b.closeLogs()
		lock.Close()
		return nil, err
	}
	go b.maintain()
	return b, nil
}

func (b *Broker) load() error {
	meta, existed, err := loadMetadata(b.fs, b.cfg.Dir)
	if err != nil {
		return err
	}
	if !existed {
		id := uuid.New()
		meta.ClusterID = base64.RawURLEncoding.EncodeToString(id[:])
		meta.NextProducerID = 1
		if err := saveMetadata(b.fs, b.cfg.Dir, meta); err != nil {
			return err
		}
	}
	b.meta = meta
	b.nextPID, b.pidEnd = meta.NextProducerID, meta.NextProducerID
	if err := b.removeStrayPartitions(); err != nil {
		return err
	}
	for name, tm := range meta.Topics {
		t, err := b.openTopic(name, tm)
		if err != nil {
			return err
		}
		b.topics[name] = t
	}
	if _, ok := b.topics[offsetsTopic]; !ok {
		if err := b.createTopic(offsetsTopic, 1, map[string]string{"cleanup.policy": "compact", "segment.bytes": "104857600"}, true); err != nil {
			return fmt.Errorf("broker: create %s: %w", offsetsTopic, err)
		}
	}
	b.offsetsPartition = b.topics[offsetsTopic].partitions[0]
	gcfg := b.cfg.Groups
	if gcfg.Logger == nil {
		gcfg.Logger = b.cfg.Logger
	}
	if gcfg.Topics == nil {
		gcfg.Topics = topicIndex{b}
	}
	coord, err := group.NewCoordinator(gcfg, offsetsJournal{b.offsetsPartition, b.cfg.Now})
	if err != nil {
		return fmt.Errorf("broker: start group coordinator: %w", err)
	}
	b.groups = coord
	return replayOffsets(b.offsetsPartition, coord)
}

// removeStrayPartitions deletes partition directories that the metadata
// does not name: left by a crash between creating a topic's logs and
// recording it, or between forgetting a deleted topic and removing its logs.
func (b *Broker) removeStrayPartitions() error {
	want := map[string]bool{}
	for name, tm := range b.meta.Topics {
		for p := int32(0); p < tm.Partitions; p++ {
			want[partitionDirName(name, p)] = true
		}
	}
	names, err := b.fs.List(b.cfg.Dir)
	if err != nil {
		return fmt.Errorf("broker: list %s: %w", b.cfg.Dir, err)
	}
	removed := false
	for _, n := range names {
		path := filepath.Join(b.cfg.Dir, n)
		info, err := b.fs.Stat(path)
		if err != nil || !info.IsDir() || want[n] {
			continue
		}
		b.cfg.Logger.Warn("removing partition directory of no known topic", "dir", path)
		if err := b.fs.RemoveAll(path); err != nil {
			return fmt.Errorf("broker: remove %s: %w", path, err)
		}
		removed = true
	}
	if removed {
		return b.fs.SyncDir(b.cfg.Dir)
	}
	return nil
}

func partitionDirName(topic string, p int32) string { return fmt.Sprintf("%s-%d", topic, p) }

func (b *Broker) logBase() log.Config {
	c := log.DefaultConfig()
	c.Sync, c.SyncInterval = b.cfg.Sync, b.cfg.SyncInterval
	if b.cfg.SyncDelay != 0 {
		c.SyncDelay = b.cfg.SyncDelay
	}
	c.Now, c.Logger = b.cfg.Now, b.cfg.Logger
	return c
}

func (b *Broker) openTopic(name string, tm topicMeta) (*topic, error) {
	lc, err := logConfig(tm.Configs, b.logBase())
	if err != nil {
		return nil, fmt.Errorf("broker: topic %s: %w", name, err)
	}
	t := &topic{name: name, id: tm.ID, configs: tm.Configs, logCfg: lc, internal: name == offsetsTopic}
	for p := int32(0); p < tm.Partitions; p++ {
		part, err := openPartition(b.fs, filepath.Join(b.cfg.Dir, partitionDirName(name, p)), name, p, lc)
		if err != nil {
			for _, q := range t.partitions {
				q.log.Close()
			}
			return nil, err
		}
		t.partitions = append(t.partitions, part)
	}
	return t, nil
}

// Close stops background work, closes every partition log cleanly and
// releases the data directory.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	<-b.done
	b.groups.Close()
	err := b.closeLogs()
	return errors.Join(err, b.lock.Close())
}

func (b *Broker) closeLogs() error {
	var errs []error
	for _, t := range b.topics {
		for _, p := range t.partitions {
			if err := p.log.Close(); err != nil && !errors.Is(err, log.ErrClosed) {
				errs = append(errs, fmt.Errorf("broker: close %s-%d: %w", t.name, p.Index, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ClusterID returns the cluster id generated when the data directory was
// created.
func (b *Broker) ClusterID() string {
	// b.meta is replaced whole under b.mu whenever topics change.
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.meta.ClusterID
}

// NodeID returns the broker's node id.
func (b *Broker) NodeID() int32 { return b.cfg.NodeID }

// Groups returns the consumer-group coordinator.
func (b *Broker) Groups() *group.Coordinator { return b.groups }

// InitProducerID hands out a new producer id with epoch 0 for an idempotent
// producer. Transactional ids are not supported yet.
func (b *Broker) InitProducerID(ctx context.Context, transactionalID string) (int64, int16, error) {
	if transactionalID != "" {
		return 0, 0, ErrTransactions
	}
	b.pidMu.Lock()
	defer b.pidMu.Unlock()
	if b.nextPID == b.pidEnd {
		b.mu.Lock()
		m := b.meta.clone()
		m.NextProducerID = b.pidEnd + pidBlock
		err := saveMetadata(b.fs, b.cfg.Dir, m)
		if err == nil {
			b.meta = m
		}
		b.mu.Unlock()
		if err != nil {
			return 0, 0, err
		}
		b.pidEnd += pidBlock
	}
	id := b.nextPID
	b.nextPID++
	return id, 0, nil
}

// maintain runs retention and compaction on every partition each
// MaintenanceInterval.
func (b *Broker) maintain() {
	defer close(b.done)
	t := time.NewTicker(b.cfg.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.RunMaintenance()
		}
	}
}

// RunMaintenance applies retention and compaction to every partition now.
func (b *Broker) RunMaintenance() {
	for _, p := range b.allPartitions() {
		if _, err := p.log.EnforceRetention(); err != nil && !errors.Is(err, log.ErrClosed) {
			b.cfg.Logger.Error("retention failed", "topic", p.Topic, "partition", p.Index, "err", err)
		}
		if p.needsCompaction() {
			if _, err := p.log.Compact(); err != nil && !errors.Is(err, log.ErrClosed) {
				b.cfg.Logger.Error("compaction failed", "topic", p.Topic, "partition", p.Index, "err", err)
			}
		}
	}
}

func (b *Broker) allPartitions() []*Partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var ps []*Partition
	for _, t := range b.topics {
		ps = append(ps, t.partitions...)
	}
	return ps
}

func isNotExist(err error) bool { return errors.Is(err, iofs.ErrNotExist) }

// topicIndex lets the coordinator resolve topic ids.
type topicIndex struct{ b *Broker }

func (x topicIndex) TopicID(name string) ([16]byte, bool) {
	x.b.mu.RLock()
	defer x.b.mu.RUnlock()
	t, ok := x.b.topics[name]
	if !ok {
		return [16]byte{}, false
	}
	return t.id, true
}

func (x topicIndex) TopicName(id [16]byte) (string, bool) {
	x.b.mu.RLock()
	defer x.b.mu.RUnlock()
	for name, t := range x.b.topics {
		if t.id == id {
			return name, true
		}
	}
	return "", false
}
