package storage

import "errors"

// Errors returned by this package, always wrapped with the store or file
// they concern; test for them with errors.Is.
var (
	// ErrClosed is returned by every operation on a store (or iterator)
	// after it was closed.
	ErrClosed = errors.New("storage: store closed")

	// ErrCorrupt means a store's local files cannot be trusted: LevelDB
	// found a bad checksum, a missing or undecodable file. The local state
	// is unusable; the engine wipes it (Destroy) and restores the store
	// from its changelog.
	ErrCorrupt = errors.New("storage: local state corrupt")

	// ErrLocked means another store (in this process or another) has the
	// LevelDB directory open. The local state is fine: do not wipe it.
	ErrLocked = errors.New("storage: store directory locked by another opener")

	// ErrNotStore is returned by Destroy for a directory that does not look
	// like a LevelDB store, so that a wrong path cannot wipe unrelated files.
	ErrNotStore = errors.New("storage: not a store directory")

	// ErrCheckpointCorrupt means a checkpoint file exists but is torn,
	// garbled or of an unknown version. The engine then trusts none of it
	// and restores from the start of the changelog.
	ErrCheckpointCorrupt = errors.New("storage: checkpoint file corrupt")

	// ErrFlushInProgress is returned by Cached.FlushCache (and Flush) when
	// called from inside the cache's own onFlush callback.
	ErrFlushInProgress = errors.New("storage: cache flush already in progress")

	// ErrUnsupported is returned when a store lacks an optional ability,
	// such as Cached.ReverseRange over a store that is not a Reverser.
	ErrUnsupported = errors.New("storage: operation not supported by store")

	// ErrInvalidOption is returned for option values that cannot work,
	// such as a negative cache size.
	ErrInvalidOption = errors.New("storage: invalid option")
)
