// Package storage holds a task's state stores: the ordered key-value maps
// behind counts, aggregates, joins and windows.
//
// A Store maps byte keys to byte values in byte order, with point reads,
// range scans (and, through Reverser, backward scans), batched writes and a
// Flush that makes writes durable on local disk. There are four:
//
//   - LevelDB (OpenLevelDB), the default: a goleveldb directory tuned for
//     bulk restore, with writes not fsynced one by one;
//   - Memory (NewMemory), an in-memory B-tree for small state and tests;
//   - Cached (NewCached, NewSharedCached), a write-back cache over either,
//     which collapses repeated updates of a key between commits into one
//     changelog record, keeps recently flushed entries as clean read
//     layers, read-modify-writes a key in one lookup when it is
//     cached and a lookup and an insert otherwise (KeyUpdater, which
//     Updater uses when it can), and shares one byte budget with other
//     caches (CacheBudget);
//   - Segmented (OpenSegmented, NewSegmentedMemory), for keys that carry a
//     time (windows): one LevelDB or Memory store per time segment, keys
//     older than a retention hidden at once and deleted a whole segment at
//     a time (segments this process created keep a Bloom filter of their
//     keys, so most misses never reach the segment's store).
//
// The package also reads and writes the checkpoint file that records, per
// changelog partition, how far the local stores contain the changelog.
//
// It is not the changelog: every store is backed by a compacted changelog
// topic, but the engine writes that topic (from Cached's flush callback)
// and replays it into Inner stores on restore; this package knows nothing
// of topics, serdes, windows or tasks. Stores do not lock against multiple
// writers: one task writes a store, while any goroutine may read it.
//
// # Durability and recovery
//
// Local state is a cache of the changelog. Writes go to disk without fsync;
// Flush fsyncs them. The engine's commit is: Cached.FlushCache (changelog
// records out, inner store updated) → flush the producer → commit input
// offsets → Flush → WriteCheckpoint. After a crash, the checkpoint names an
// offset that Flush covered, and replaying the changelog from it rewrites
// anything lost since. If OpenLevelDB returns ErrCorrupt, or
// ReadCheckpoint returns ErrCheckpointCorrupt, the local state is not
// trusted: Destroy the directory and restore from the start of the
// changelog. ErrLocked means someone else has the store open; never wipe
// on it.
//
// # Checkpoint file format
//
// A checkpoint is a short UTF-8 text file, so that an operator can read it:
//
//	eddy-checkpoint 1           header with format version
//	2                           number of entries, decimal
//	"counts-changelog-0" 1042   per entry: Go-quoted partition name, space, offset (decimal int64)
//	"totals-changelog-0" 77
//	crc32c 5d0f3a1c             CRC-32C (Castagnoli) of every byte above, 8 lowercase hex digits
//
// Every line ends with '\n'; entries are sorted by name; a name appears
// once. A file that is torn, fails its checksum, has another header or
// does not parse is reported as ErrCheckpointCorrupt; a missing file is an
// empty checkpoint.
package storage
