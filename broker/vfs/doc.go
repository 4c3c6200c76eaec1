// Package vfs is the filesystem seam of eddy's storage: the partition log
// (package broker/log) reaches files only through the FS and File
// interfaces defined here, never through package os.
//
// Three implementations stack on the seam:
//
//   - OS, the real filesystem: fdatasync for File.Sync, fsync of the
//     directory for SyncDir, flock(2) for Lock, and files that implement
//     FdFile so the network layer can sendfile(2) from them.
//   - MemFS, an in-memory filesystem for tests that tracks what has been
//     synced. CrashClone returns the filesystem as it would be after a power
//     loss: only synced file contents and synced directory entries, or, with
//     CrashOptions.Rand, a random part of the unsynced state as well (torn
//     tails, garbage past a partial write, some unsynced renames kept).
//   - FaultFS, a wrapper over any FS that fails the operations an Injector
//     picks (FailAfter, FailOnce, DiskFull for ENOSPC and short writes).
//
// The durability contract callers must follow, and that MemFS enforces, is
// the POSIX one: file content is durable after File.Sync; a created,
// renamed or removed directory entry (directories made by MkdirAll
// included) is durable after SyncDir of the directory that holds it.
// Creating a segment durably therefore takes Create, Write, Sync, and
// SyncDir of its directory; replacing a checkpoint takes a write and Sync of
// a temporary file, Rename, and SyncDir.
//
// Errors are those of package os where a real filesystem is involved:
// *fs.PathError values that match fs.ErrNotExist, fs.ErrClosed and the
// syscall errnos with errors.Is. MemFS returns the same kinds of errors, so
// callers can test them the same way against both. The package's own
// sentinels are ErrLocked and ErrInjected.
//
// This package is not a general-purpose VFS: it has no symlinks, no
// permissions model beyond what Create and MkdirAll pass to the OS, no
// directory handles, and nothing the log does not need. MemFS is for tests,
// not for holding production data in memory.
package vfs
