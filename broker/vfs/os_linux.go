package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes the file's data and the metadata needed to read it back
// (its size), skipping timestamps: the partition log never needs mtime to be
// durable, and fdatasync saves a journal write per call.
func datasync(f *os.File) error {
	return onDescriptor(f, "fdatasync", unix.Fdatasync)
}

var _ WritebackStarter = (*osFile)(nil)

// StartWriteback implements WritebackStarter with sync_file_range, which
// queues the range's dirty pages for writing and returns.
func (o *osFile) StartWriteback(off, n int64) error {
	return onDescriptor(o.f, "sync_file_range", func(fd int) error {
		return unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

// onDescriptor runs the system call op on f's descriptor, again while it is
// interrupted, and reports its failure as a PathError.
func onDescriptor(f *os.File, op string, call func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var callErr error
	// Control keeps the descriptor from being closed underneath the call.
	if err := rc.Control(func(fd uintptr) {
		for {
			callErr = call(int(fd))
			if callErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		// Control fails only when the descriptor is closed or closing, and
		// reports it with an internal error that fs.ErrClosed does not match.
		return &os.PathError{Op: op, Path: f.Name(), Err: os.ErrClosed}
	}
	if callErr != nil {
		return &os.PathError{Op: op, Path: f.Name(), Err: callErr}
	}
	return nil
}
