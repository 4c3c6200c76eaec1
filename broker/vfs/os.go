package vfs

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// OS returns the real filesystem. It is the only code in eddy's storage that
// calls package os; paths are handed to the operating system unchanged.
//
// Files from OpenReadWrite are opened without O_APPEND, because on Linux a
// pwrite on an O_APPEND descriptor ignores its offset and WriteAt must keep
// working. Write therefore appends at an end offset tracked by the handle:
// it starts at the file's size when opened and follows the handle's own
// Write, WriteAt and Truncate calls. Appends made through another handle to
// the same file are not seen, so a file must have a single appending handle
// (the partition log keeps one writer per segment).
//
// Sync uses fdatasync where the platform has it. Lock uses flock(2), whose
// locks belong to the open file description: a second Lock of the same file
// fails even from the same process, which is what makes the lock usable
// against two brokers sharing a data directory within one test binary.
func OS() FS { return osFS{} }

type osFS struct{}

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (osFS) OpenReadWrite(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // the Stat error is the one worth reporting
		return nil, err
	}
	return &osFile{f: f, end: fi.Size()}, nil
}

func (osFS) Remove(name string) error { return os.Remove(name) }

func (osFS) RemoveAll(name string) error { return os.RemoveAll(name) }

func (osFS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	syncErr := d.Sync()
	closeErr := d.Close()
	if syncErr != nil {
		return syncErr
	}
	return closeErr
}

func (osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := lockFile(f); err != nil {
		_ = f.Close() // the lock failure is the error worth reporting
		return nil, fmt.Errorf("vfs: lock %s: %w", name, err)
	}
	return &osLock{f: f}, nil
}

// osLock releases the flock by closing the descriptor that holds it.
type osLock struct {
	once sync.Once
	f    *os.File
	err  error
}

func (l *osLock) Close() error {
	l.once.Do(func() { l.err = l.f.Close() })
	return l.err
}

// osFile adds the tracked end offset for Write to an *os.File.
type osFile struct {
	f *os.File

	mu  sync.Mutex
	end int64 // where the next Write lands
}

var _ FdFile = (*osFile)(nil)

func (o *osFile) Read(p []byte) (int, error) { return o.f.Read(p) }

func (o *osFile) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }

func (o *osFile) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.f.WriteAt(p, o.end)
	o.end += int64(n)
	return n, err
}

func (o *osFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := o.f.WriteAt(p, off)
	if n > 0 {
		o.mu.Lock()
		o.end = max(o.end, off+int64(n))
		o.mu.Unlock()
	}
	return n, err
}

func (o *osFile) Truncate(size int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.f.Truncate(size); err != nil {
		return err
	}
	o.end = size
	return nil
}

func (o *osFile) Sync() error { return datasync(o.f) }

func (o *osFile) Stat() (os.FileInfo, error) { return o.f.Stat() }

func (o *osFile) Close() error { return o.f.Close() }

// Fd returns the descriptor for zero-copy system calls. It stays valid only
// until Close.
func (o *osFile) Fd() uintptr { return o.f.Fd() }
