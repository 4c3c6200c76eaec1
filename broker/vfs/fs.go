package vfs

import (
	"io"
	"os"
)

// FS is the set of filesystem operations the broker's storage needs. Every
// file the partition log touches is reached through it, so tests can swap in
// a memory filesystem that loses unsynced writes on a simulated crash, or one
// that injects errors.
//
// Names are slash-separated paths; implementations do not interpret them
// beyond what package path/filepath does.
type FS interface {
	// Create creates the named file for reading and writing, truncating it
	// if it already exists. The new directory entry is durable only after
	// SyncDir of its parent.
	Create(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// OpenReadWrite opens an existing file for reading and writing without
	// truncating it; writes through Write go to the end of the file.
	OpenReadWrite(name string) (File, error)
	// Remove removes a file or an empty directory. Open handles to a removed
	// file keep working until closed (POSIX unlink semantics). Durable after
	// SyncDir of the parent.
	Remove(name string) error
	// RemoveAll removes a directory tree.
	RemoveAll(name string) error
	// Rename atomically replaces newname with oldname. Durable after SyncDir.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and any missing parents. Each new
	// directory's entry is durable only after SyncDir of its parent.
	MkdirAll(dir string, perm os.FileMode) error
	// List returns the names (not paths) of a directory's entries, sorted.
	List(dir string) ([]string, error)
	// Stat describes the named file.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes the directory's entries (creates, renames, removes)
	// durable.
	SyncDir(dir string) error
	// Lock takes an exclusive advisory lock on the named file, creating it
	// if needed, so two processes cannot open the same data directory. The
	// lock is released by closing the returned Closer.
	Lock(name string) (io.Closer, error)
}

// File is an open file. ReadAt and WriteAt may be called concurrently with
// each other; Write appends at the file's end. Read reads sequentially from
// its own position, which starts at 0 and which Write does not move.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	// Sync makes the file's contents durable (fdatasync where available).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Stat describes the open file; Size() is its current length.
	Stat() (os.FileInfo, error)
}

// WritebackStarter is implemented by files that can start writing a range
// of their data back to the disk without waiting for it (the real
// filesystem's, on Linux: sync_file_range with SYNC_FILE_RANGE_WRITE). It
// makes nothing durable — only Sync does — but data already on its way to
// the disk shortens the Sync that follows, during which the syncing
// goroutine holds one of the Go scheduler's processors.
type WritebackStarter interface {
	StartWriteback(off, n int64) error
}

// FdFile is implemented by files backed by an operating-system descriptor,
// so callers can use zero-copy system calls (sendfile) on them. Only the
// real filesystem's files implement it.
type FdFile interface {
	File
	Fd() uintptr
}
