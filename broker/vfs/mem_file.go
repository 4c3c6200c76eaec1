package vfs

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"
)

// memFile is an open handle on a MemFS inode. It holds the inode itself, not
// its name, so it outlives Remove and Rename like a descriptor does. All of
// its state is guarded by the owning MemFS's mutex.
type memFile struct {
	fs       *MemFS
	node     *memNode
	name     string
	writable bool
	readOff  int64 // position of Read; Write always appends
	closed   bool
}

var _ File = (*memFile)(nil)

// check returns the error an operation on f fails with, if any.
func (f *memFile) check(op string, write bool) error {
	if f.closed {
		return pathErr(op, f.name, fs.ErrClosed)
	}
	if write && !f.writable {
		return pathErr(op, f.name, syscall.EBADF)
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.readOff >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[f.readOff:])
	f.readOff += int64(n)
	return n, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, fs.ErrInvalid)
	}
	if off >= int64(len(f.node.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.node.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	f.node.writeAt(p, int64(len(f.node.data)))
	return len(p), nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", f.name, fs.ErrInvalid)
	}
	f.node.writeAt(p, off)
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, fs.ErrInvalid)
	}
	f.node.resize(size)
	return nil
}

// Sync makes the inode's current content the content that survives a
// crash. Like fsync on Linux it works on read-only handles too.
func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync", false); err != nil {
		return err
	}
	n := f.node
	n.synced = n.data[:len(n.data):len(n.data)]
	n.shared = true
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat", false); err != nil {
		return nil, err
	}
	return f.node.info(f.name), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("close", false); err != nil {
		return err
	}
	f.closed = true
	return nil
}

// writeAt stores p at off, zero-filling any gap past the current end.
func (n *memNode) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(n.data)) {
		n.resize(end)
	}
	n.unshareFrom(off)
	copy(n.data[off:], p)
	n.modTime = time.Now()
}

// resize truncates or zero-extends the content to size bytes.
func (n *memNode) resize(size int64) {
	n.modTime = time.Now()
	old := int64(len(n.data))
	if size <= old {
		n.data = n.data[:size]
		return
	}
	// The spare capacity may hold bytes from before a truncation, and may
	// belong to the synced snapshot, so it is unshared and cleared.
	n.unshareFrom(old)
	if size <= int64(cap(n.data)) {
		n.data = n.data[:size]
		clear(n.data[old:])
		return
	}
	grown := make([]byte, size, max(size, 2*int64(cap(n.data))))
	copy(grown, n.data)
	n.data = grown
	n.shared = false
}

// unshareFrom gives data its own backing array before bytes at or after off
// change, if those bytes are also part of the synced snapshot.
func (n *memNode) unshareFrom(off int64) {
	if n.shared && off < int64(len(n.synced)) {
		n.data = bytes.Clone(n.data)
		n.shared = false
	}
}

func (n *memNode) info(name string) os.FileInfo {
	fi := memInfo{name: path.Base(name), mode: n.mode, modTime: n.modTime}
	if !n.dir {
		fi.size = int64(len(n.data))
	}
	return fi
}

// memInfo is the os.FileInfo of a MemFS inode.
type memInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
}

func (fi memInfo) Name() string       { return fi.name }
func (fi memInfo) Size() int64        { return fi.size }
func (fi memInfo) Mode() os.FileMode  { return fi.mode }
func (fi memInfo) ModTime() time.Time { return fi.modTime }
func (fi memInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi memInfo) Sys() any           { return nil }
