package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
)

// Op names an operation a FaultFS can make fail.
type Op int

// The operations of FS and File. File.Stat counts as OpStat, File.ReadAt as
// OpRead.
const (
	OpCreate Op = iota + 1
	OpOpen
	OpOpenReadWrite
	OpRemove
	OpRemoveAll
	OpRename
	OpMkdirAll
	OpList
	OpStat
	OpSyncDir
	OpLock
	OpRead
	OpWrite
	OpWriteAt
	OpSync
	OpTruncate
	OpClose
)

var opNames = [...]string{
	OpCreate: "create", OpOpen: "open", OpOpenReadWrite: "open-read-write",
	OpRemove: "remove", OpRemoveAll: "remove-all", OpRename: "rename",
	OpMkdirAll: "mkdir-all", OpList: "list", OpStat: "stat",
	OpSyncDir: "sync-dir", OpLock: "lock", OpRead: "read", OpWrite: "write",
	OpWriteAt: "write-at", OpSync: "sync", OpTruncate: "truncate",
	OpClose: "close",
}

func (op Op) String() string {
	if op > 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("Op(%d)", int(op))
}

// Injector decides whether an operation fails: it returns nil to let the
// operation reach the wrapped FS, or the error to fail it with. name is the
// file or directory operated on (for OpRename, the old name). An Injector
// may be called from several goroutines at once.
//
// For OpWrite and OpWriteAt, returning a *ShortWriteError makes the write
// store a prefix of its bytes before failing.
type Injector func(op Op, name string) error

// ShortWriteError, returned by an Injector for a write, lets the first Keep
// bytes of the write reach the file; the write then reports Keep (or fewer,
// if the write was shorter) bytes written and fails with Err.
type ShortWriteError struct {
	Keep int
	Err  error
}

func (e *ShortWriteError) Error() string {
	return fmt.Sprintf("short write of %d bytes: %v", e.Keep, e.Err)
}

func (e *ShortWriteError) Unwrap() error { return e.Err }

// FaultFS wraps an FS and fails the operations its Injector picks. Failed
// operations return an *fs.PathError (naming the operation and file) that
// wraps the injector's error, and do not reach the wrapped FS, except for
// the prefix a ShortWriteError lets through.
//
// Files opened through a FaultFS do not implement FdFile, even if the
// wrapped ones do: a descriptor would let reads bypass the injection.
type FaultFS struct {
	inner  FS
	inject atomic.Pointer[Injector]
}

var _ FS = (*FaultFS)(nil)

// NewFaultFS wraps inner. A nil inject lets every operation through.
func NewFaultFS(inner FS, inject Injector) *FaultFS {
	f := &FaultFS{inner: inner}
	f.SetInjector(inject)
	return f
}

// SetInjector replaces the Injector, so a test can let setup succeed and
// arm faults afterwards. It is safe to call while operations run.
func (f *FaultFS) SetInjector(inject Injector) {
	f.inject.Store(&inject)
}

// check asks the injector about one operation.
func (f *FaultFS) check(op Op, name string) error {
	inject := *f.inject.Load()
	if inject == nil {
		return nil
	}
	if err := inject(op, name); err != nil {
		return &fs.PathError{Op: op.String(), Path: name, Err: err}
	}
	return nil
}

func (f *FaultFS) Create(name string) (File, error) {
	if err := f.check(OpCreate, name); err != nil {
		return nil, err
	}
	file, err := f.inner.Create(name)
	return f.wrap(name, file, err)
}

func (f *FaultFS) Open(name string) (File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.inner.Open(name)
	return f.wrap(name, file, err)
}

func (f *FaultFS) OpenReadWrite(name string) (File, error) {
	if err := f.check(OpOpenReadWrite, name); err != nil {
		return nil, err
	}
	file, err := f.inner.OpenReadWrite(name)
	return f.wrap(name, file, err)
}

func (f *FaultFS) wrap(name string, file File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &faultFile{fs: f, inner: file, name: name}, nil
}

func (f *FaultFS) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.inner.Remove(name)
}

func (f *FaultFS) RemoveAll(name string) error {
	if err := f.check(OpRemoveAll, name); err != nil {
		return err
	}
	return f.inner.RemoveAll(name)
}

func (f *FaultFS) Rename(oldname, newname string) error {
	if err := f.check(OpRename, oldname); err != nil {
		return err
	}
	return f.inner.Rename(oldname, newname)
}

func (f *FaultFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := f.check(OpMkdirAll, dir); err != nil {
		return err
	}
	return f.inner.MkdirAll(dir, perm)
}

func (f *FaultFS) List(dir string) ([]string, error) {
	if err := f.check(OpList, dir); err != nil {
		return nil, err
	}
	return f.inner.List(dir)
}

func (f *FaultFS) Stat(name string) (os.FileInfo, error) {
	if err := f.check(OpStat, name); err != nil {
		return nil, err
	}
	return f.inner.Stat(name)
}

func (f *FaultFS) SyncDir(dir string) error {
	if err := f.check(OpSyncDir, dir); err != nil {
		return err
	}
	return f.inner.SyncDir(dir)
}

func (f *FaultFS) Lock(name string) (io.Closer, error) {
	if err := f.check(OpLock, name); err != nil {
		return nil, err
	}
	return f.inner.Lock(name)
}

// faultFile asks its FaultFS before each operation on the wrapped file.
type faultFile struct {
	fs    *FaultFS
	inner File
	name  string
}

var _ File = (*faultFile)(nil)

func (f *faultFile) Read(p []byte) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.inner.Read(p)
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.inner.ReadAt(p, off)
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		return shortWrite(err, p, f.inner.Write)
	}
	return f.inner.Write(p)
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWriteAt, f.name); err != nil {
		return shortWrite(err, p, func(q []byte) (int, error) { return f.inner.WriteAt(q, off) })
	}
	return f.inner.WriteAt(p, off)
}

// shortWrite lets through the prefix of p that a ShortWriteError inside err
// allows, then reports err.
func shortWrite(err error, p []byte, write func([]byte) (int, error)) (int, error) {
	var short *ShortWriteError
	if !errors.As(err, &short) || short.Keep <= 0 {
		return 0, err
	}
	n, werr := write(p[:min(short.Keep, len(p))])
	if werr != nil {
		return n, werr
	}
	return n, err
}

func (f *faultFile) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.inner.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.inner.Truncate(size)
}

func (f *faultFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(OpStat, f.name); err != nil {
		return nil, err
	}
	return f.inner.Stat()
}

// Close closes the wrapped file even when a fault is injected, as close(2)
// releases the descriptor whatever it reports, so tests do not leak files.
func (f *faultFile) Close() error {
	injected := f.fs.check(OpClose, f.name)
	if err := f.inner.Close(); err != nil {
		return err
	}
	return injected
}
