// Package log is one partition's durable log on disk: the storage under
// every topic of eddy's embedded broker.
//
// It stores Kafka RecordBatch v2 bytes exactly as producers send them
// (package batch holds that format) and serves them back untouched, so a
// fetch can go from the page cache to a socket without being decoded or
// re-encoded. It is not a broker: topics, partitions, producer ids and
// consumer groups live in package broker above it, and it does not lock its
// directory against other processes (the broker locks the data directory).
// All file access goes through a vfs.FS so tests can crash the log.
//
// # Files
//
// A log is a directory of segments. Each segment is named by its base
// offset (the offset of its first batch) in 20 zero-padded digits:
//
//	00000000000000000000.log        batches, back to back, as produced
//	00000000000000000000.index      sparse offset index
//	00000000000000000000.timeindex  sparse time index
//	recovery-point                  decimal offset; segments wholly below it were synced with their indexes
//	.clean-shutdown                 present only between a clean Close and the next Open
//
// The .log file is a sequence of v2 batches whose baseOffset fields the log
// stamped on append (the CRC does not cover them). Offsets increase from
// batch to batch; compaction may leave gaps, never reorders.
//
// The .index file is a sequence of 8-byte big-endian entries, about one
// every Config.IndexIntervalBytes of log:
//
//	bytes 0-3  offset of a batch's first record minus the segment's base offset (uint32)
//	bytes 4-7  position of that batch in the .log file (uint32)
//
// The .timeindex file is a sequence of 12-byte big-endian entries, written
// with the offset index entries when the maximum timestamp grew:
//
//	bytes 0-7   t: every batch before the one below has a max timestamp <= t (int64, ms)
//	bytes 8-11  that batch's offset minus the segment's base offset (uint32)
//
// Index files are written whole when a segment is sealed (rolled) and when
// the log closes cleanly; in between the active segment's index lives in
// memory. They are derivable from the .log, so recovery rebuilds rather
// than trusts any it has doubts about.
//
// # Durability
//
// Under SyncOnAck (the default) Append returns only after an fsync covers
// the batches, and readers see only fsynced data. Appends that arrive while
// an fsync runs share the next one (group commit). Data written without
// awaiting its fsync (Write) is fsynced in the background: at once when a
// reader waits for it (WaitFor), otherwise after Config.SyncDelay, so that
// writes nobody waits for share fsyncs too. SyncInterval and NoSync
// trade a documented loss window on machine crashes for latency; see
// SyncPolicy. A segment is fsynced with its index files before the next
// one is created, and the directory is fsynced after every create, rename
// and delete. A failed fsync makes the log refuse further appends
// (ErrFailed): after one, the kernel may have dropped the dirty pages, and
// only a reopen, which re-validates the tail, knows what is on disk.
//
// # Recovery
//
// After a clean Close, Open trusts the index files. Otherwise it re-validates
// every batch (length, magic, CRC-32C, offsets increasing) from the segment
// holding the recovery point to the end, rebuilding indexes, and cuts the log
// at the first invalid batch: that is a torn tail, bytes that were never
// fsynced and so never acknowledged under SyncOnAck. Segments after a cut
// are deleted. Data below the recovery point is not re-read at Open;
// ReadBatches checks CRCs of what it returns and reports damage as a
// *CorruptionError naming the file and byte position, never as data.
//
// # Retention and compaction
//
// EnforceRetention deletes whole segments from the start (by age of their
// newest record, or to bring the log under a size); the log start offset is
// the first remaining segment's base. Compact rewrites sealed segments
// keeping the newest record per key; see its documentation for the crash-safe
// swap. The broker decides when to run either.
package log
