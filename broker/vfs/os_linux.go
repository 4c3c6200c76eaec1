package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes the file's data and the metadata needed to read it back
// (its size), skipping timestamps: the partition log never needs mtime to be
// durable, and fdatasync saves a journal write per call.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var syncErr error
	// Control keeps the descriptor from being closed underneath the call.
	if err := rc.Control(func(fd uintptr) {
		for {
			syncErr = unix.Fdatasync(int(fd))
			if syncErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		// Control fails only when the descriptor is closed or closing, and
		// reports it with an internal error that fs.ErrClosed does not match.
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: os.ErrClosed}
	}
	if syncErr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: syncErr}
	}
	return nil
}

var _ WritebackStarter = (*osFile)(nil)

// StartWriteback implements WritebackStarter with sync_file_range, which
// queues the range's dirty pages for writing and returns.
func (o *osFile) StartWriteback(off, n int64) error {
	rc, err := o.f.SyscallConn()
	if err != nil {
		return err
	}
	var rangeErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			rangeErr = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
			if rangeErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return &os.PathError{Op: "sync_file_range", Path: o.f.Name(), Err: os.ErrClosed}
	}
	if rangeErr != nil {
		return &os.PathError{Op: "sync_file_range", Path: o.f.Name(), Err: rangeErr}
	}
	return nil
}
