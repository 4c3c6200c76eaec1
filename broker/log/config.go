package log

import (
	"fmt"
	"log/slog"
	"time"
)

// SyncPolicy says when appended data is made durable with fsync, and so what
// a crash of the machine (not just the process) can lose.
type SyncPolicy int

const (
	// SyncOnAck fsyncs before Append returns. Concurrent appends share one
	// fsync (group commit). Nothing acknowledged is ever lost. Readers see
	// only synced data: the high watermark is the durable end of the log.
	SyncOnAck SyncPolicy = iota
	// SyncInterval fsyncs in the background every Config.SyncInterval.
	// Append returns once the data is written to the operating system. A
	// machine crash loses at most the last interval of acknowledged appends;
	// a process crash alone loses nothing (the page cache survives it).
	SyncInterval
	// NoSync never fsyncs appended data except when a segment rolls and on
	// Close. A machine crash can lose everything since the last roll; a
	// process crash alone loses nothing.
	NoSync
)

func (p SyncPolicy) String() string {
	switch p {
	case SyncOnAck:
		return "on-ack"
	case SyncInterval:
		return "interval"
	case NoSync:
		return "none"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// Config is one partition log's configuration. The fields mirror Kafka's
// topic configs, whose names are given with each field; DefaultConfig returns
// Kafka's defaults.
type Config struct {
	// SegmentBytes rolls a new segment when the active one would exceed it
	// (segment.bytes, default 1 GiB; at most 2 GiB-1 since index positions
	// are 32 bits).
	SegmentBytes int64
	// SegmentAge rolls a new segment once the active one's first append is
	// older than this (segment.ms, default 7 days). Zero disables it.
	SegmentAge time.Duration
	// IndexIntervalBytes is how many log bytes pass between two offset and
	// time index entries (index.interval.bytes, default 4096).
	IndexIntervalBytes int
	// MaxBatchBytes is the largest batch Append accepts (max.message.bytes,
	// default 1048588).
	MaxBatchBytes int
	// RetentionTime deletes whole segments whose newest record is older than
	// this (retention.ms, default 7 days). Negative keeps data forever.
	RetentionTime time.Duration
	// RetentionBytes deletes the oldest segments while the log is larger
	// than this (retention.bytes, default -1: unlimited).
	RetentionBytes int64
	// Delete enables time and size retention (cleanup.policy contains
	// "delete"); Compact enables compaction (cleanup.policy contains
	// "compact"). Kafka's default policy is delete.
	Delete, Compact bool
	// TombstoneRetention keeps a compacted-away key's tombstone this long
	// after it was written, so slow readers still see the delete
	// (delete.retention.ms, default 1 day).
	TombstoneRetention time.Duration
	// MinCompactionLag leaves records younger than this uncompacted
	// (min.compaction.lag.ms, default 0).
	MinCompactionLag time.Duration
	// Sync is the durability policy; SyncInterval is its period
	// (flush.ms's role; default 1 s when the policy is SyncInterval).
	Sync         SyncPolicy
	SyncInterval time.Duration
	// SyncDelay is, under SyncOnAck, how long data written without
	// awaiting its fsync (Write: acks=1 produce requests, the stream
	// engine's appends) may stay unsynced, and so unseen by readers,
	// while no reader waits for it (default 50 ms; negative: none). A
	// reader waiting for it (WaitFor, a fetch long-polling at the end of
	// the log) has it fsynced at once, as does anyone awaiting
	// durability (Append, AwaitDurable): the delay only spares fsyncs
	// nobody is waiting for, one per write while writes keep coming,
	// each of which also holds a Go scheduler's processor in the
	// system call for as long as the disk takes.
	SyncDelay time.Duration
	// Now is the clock used for segment age, retention and compaction; nil
	// means time.Now. Tests inject a fake one.
	Now func() time.Time
	// Logger receives recovery and maintenance messages; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns Kafka's topic defaults with fsync on acknowledgement.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentAge:         7 * 24 * time.Hour,
		IndexIntervalBytes: 4096,
		MaxBatchBytes:      1048588,
		RetentionTime:      7 * 24 * time.Hour,
		RetentionBytes:     -1,
		Delete:             true,
		TombstoneRetention: 24 * time.Hour,
		Sync:               SyncOnAck,
		SyncInterval:       time.Second,
		SyncDelay:          50 * time.Millisecond,
	}
}

// validate fills unset fields with defaults and rejects impossible values.
func (c *Config) validate() error {
	d := DefaultConfig()
	if c.SegmentBytes == 0 {
		c.SegmentBytes = d.SegmentBytes
	}
	if c.SegmentBytes < 1024 || c.SegmentBytes > 1<<31-1 {
		return fmt.Errorf("%w: segment bytes %d outside [1024, 2^31-1]", ErrConfig, c.SegmentBytes)
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = d.IndexIntervalBytes
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = d.MaxBatchBytes
	}
	if c.SegmentAge < 0 {
		return fmt.Errorf("%w: negative segment age %v", ErrConfig, c.SegmentAge)
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = -1
	}
	if c.Sync < SyncOnAck || c.Sync > NoSync {
		return fmt.Errorf("%w: unknown sync policy %d", ErrConfig, int(c.Sync))
	}
	if c.Sync == SyncInterval && c.SyncInterval <= 0 {
		c.SyncInterval = d.SyncInterval
	}
	if c.SyncDelay == 0 {
		c.SyncDelay = d.SyncDelay
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
