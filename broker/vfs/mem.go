package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MemFS is an in-memory FS for tests that tracks what would survive a power
// loss. Every file (inode) keeps its current bytes and the bytes it had at
// its last Sync; every directory keeps its current entries and the entries it
// had at its last SyncDir. CrashClone builds the filesystem a machine would
// find after losing power now.
//
// The durability rules it enforces are the POSIX ones careful storage code
// relies on:
//   - a file's content is durable only up to its last Sync, and belongs to
//     the inode: renaming a file keeps its synced content;
//   - creating, renaming or removing an entry (files and directories alike,
//     MkdirAll included) is durable only after SyncDir of the directory
//     holding the entry; a rename between two directories needs both synced;
//   - Remove unlinks: handles still open on a removed or replaced file keep
//     reading and writing their own inode.
//
// Paths are slash-separated; "/" and "." both name the root, and absolute and
// relative paths resolve from the same root. Directories cannot be opened as
// files (Open returns an error wrapping syscall.EISDIR).
//
// A MemFS is safe for concurrent use. Create one with NewMem.
type MemFS struct {
	mu     sync.Mutex
	root   *memNode
	locked map[*memNode]bool // inodes held by an unreleased Lock
}

// memNode is an inode: a file or a directory.
type memNode struct {
	dir     bool
	mode    os.FileMode
	modTime time.Time

	// Files. synced is the content as of the last Sync. To keep Sync cheap
	// on large files, synced aliases data's backing array; shared records
	// that, and the first write below len(synced) copies data first.
	data   []byte
	synced []byte
	shared bool

	// Directories.
	entries       map[string]*memNode
	syncedEntries map[string]*memNode
}

// NewMem returns an empty in-memory filesystem holding only its root.
func NewMem() *MemFS {
	return &MemFS{root: newDirNode(0o755), locked: make(map[*memNode]bool)}
}

var _ FS = (*MemFS)(nil)

func newDirNode(perm os.FileMode) *memNode {
	return &memNode{
		dir:           true,
		mode:          perm.Perm() | os.ModeDir,
		modTime:       time.Now(),
		entries:       make(map[string]*memNode),
		syncedEntries: make(map[string]*memNode),
	}
}

func newFileNode() *memNode {
	return &memNode{mode: 0o644, modTime: time.Now()}
}

// splitPath turns a name into its components below the root.
func splitPath(name string) []string {
	clean := strings.Trim(path.Clean("/"+name), "/")
	if clean == "" {
		return nil
	}
	return strings.Split(clean, "/")
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// lookup resolves name to its inode. Callers hold m.mu.
func (m *MemFS) lookup(op, name string) (*memNode, error) {
	n := m.root
	for _, part := range splitPath(name) {
		if !n.dir {
			return nil, pathErr(op, name, syscall.ENOTDIR)
		}
		child, ok := n.entries[part]
		if !ok {
			return nil, pathErr(op, name, fs.ErrNotExist)
		}
		n = child
	}
	return n, nil
}

// lookupParent resolves the directory holding name and name's last
// component. Callers hold m.mu.
func (m *MemFS) lookupParent(op, name string) (*memNode, string, error) {
	parts := splitPath(name)
	if len(parts) == 0 {
		return nil, "", pathErr(op, name, fs.ErrInvalid) // the root has no parent
	}
	parent, err := m.lookup(op, strings.Join(parts[:len(parts)-1], "/"))
	if err != nil {
		return nil, "", pathErr(op, name, underlying(err))
	}
	if !parent.dir {
		return nil, "", pathErr(op, name, syscall.ENOTDIR)
	}
	return parent, parts[len(parts)-1], nil
}

// underlying strips the PathError lookup added, so the caller can report
// the name it was asked about rather than the parent's.
func underlying(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Create creates or truncates the named file. Truncating an existing file
// keeps its inode, as O_TRUNC does.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, err := m.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	n, ok := parent.entries[base]
	switch {
	case ok && n.dir:
		return nil, pathErr("open", name, syscall.EISDIR)
	case ok:
		n.resize(0)
	default:
		n = newFileNode()
		parent.entries[base] = n
		parent.modTime = time.Now()
	}
	return &memFile{fs: m, node: n, name: name, writable: true}, nil
}

// Open opens the named file for reading.
func (m *MemFS) Open(name string) (File, error) { return m.open(name, false) }

// OpenReadWrite opens the named file for reading and writing; Write appends
// at the inode's current end.
func (m *MemFS) OpenReadWrite(name string) (File, error) { return m.open(name, true) }

func (m *MemFS) open(name string, writable bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.dir {
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	return &memFile{fs: m, node: n, name: name, writable: writable}, nil
}

// Remove unlinks a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, err := m.lookupParent("remove", name)
	if err != nil {
		return err
	}
	n, ok := parent.entries[base]
	if !ok {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.entries) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(parent.entries, base)
	parent.modTime = time.Now()
	return nil
}

// RemoveAll removes name and everything below it; a missing name is not an
// error. Like the real call it unlinks entry by entry, so after a crash the
// tree reappears as far as its directories were not synced.
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, err := m.lookupParent("unlinkat", name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	n, ok := parent.entries[base]
	if !ok {
		return nil
	}
	unlinkTree(n)
	delete(parent.entries, base)
	parent.modTime = time.Now()
	return nil
}

func unlinkTree(n *memNode) {
	if !n.dir {
		return
	}
	for name, child := range n.entries {
		unlinkTree(child)
		delete(n.entries, name)
	}
}

// Rename moves oldname to newname, atomically replacing a file (or an empty
// directory) already there.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fail := func(err error) error {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	oldParent, oldBase, err := m.lookupParent("rename", oldname)
	if err != nil {
		return fail(underlying(err))
	}
	newParent, newBase, err := m.lookupParent("rename", newname)
	if err != nil {
		return fail(underlying(err))
	}
	n, ok := oldParent.entries[oldBase]
	if !ok {
		return fail(fs.ErrNotExist)
	}
	target, exists := newParent.entries[newBase]
	switch {
	case exists && target == n:
		return nil // same entry: rename(2) does nothing
	case exists && target.dir && !n.dir:
		return fail(syscall.EISDIR)
	case exists && !target.dir && n.dir:
		return fail(syscall.ENOTDIR)
	case exists && target.dir && len(target.entries) > 0:
		return fail(syscall.ENOTEMPTY)
	}
	if n.dir && isBelow(splitPath(newname), splitPath(oldname)) {
		return fail(syscall.EINVAL) // a directory cannot move into itself
	}
	delete(oldParent.entries, oldBase)
	newParent.entries[newBase] = n
	now := time.Now()
	oldParent.modTime, newParent.modTime = now, now
	return nil
}

// isBelow reports whether path p lies strictly below dir.
func isBelow(p, dir []string) bool {
	return len(p) > len(dir) && slices.Equal(p[:len(dir)], dir)
}

// MkdirAll creates dir and its missing parents with mode perm. Each new
// directory's entry is durable only after SyncDir of its parent, exactly like
// a file's.
func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, part := range splitPath(dir) {
		child, ok := n.entries[part]
		if !ok {
			child = newDirNode(perm)
			n.entries[part] = child
			n.modTime = time.Now()
		}
		if !child.dir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = child
	}
	return nil
}

// List returns the sorted names of dir's entries.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("open", dir)
	if err != nil {
		return nil, err
	}
	if !n.dir {
		return nil, pathErr("readdirent", dir, syscall.ENOTDIR)
	}
	return slices.Sorted(maps.Keys(n.entries)), nil
}

// Stat describes the named file or directory.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return n.info(name), nil
}

// SyncDir makes dir's current entries the ones that survive a crash.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("sync", dir)
	if err != nil {
		return err
	}
	if !n.dir {
		return pathErr("sync", dir, syscall.ENOTDIR)
	}
	n.syncedEntries = maps.Clone(n.entries)
	return nil
}

// Lock takes an exclusive lock on the named file's inode, creating the file
// if needed. A second Lock fails with ErrLocked until the first is released.
// Locks do not survive CrashClone.
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parent, base, err := m.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	n, ok := parent.entries[base]
	switch {
	case ok && n.dir:
		return nil, pathErr("open", name, syscall.EISDIR)
	case !ok:
		n = newFileNode()
		parent.entries[base] = n
		parent.modTime = time.Now()
	}
	if m.locked[n] {
		return nil, fmt.Errorf("vfs: lock %s: %w", name, ErrLocked)
	}
	m.locked[n] = true
	return &memLock{fs: m, node: n}, nil
}

type memLock struct {
	fs       *MemFS
	node     *memNode
	released bool
}

func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if !l.released {
		l.released = true
		delete(l.fs.locked, l.node)
	}
	return nil
}

// String lists the current tree with what a crash would do to it, for
// debugging failing tests.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("/\n")
	dumpDir(&b, m.root, "  ")
	return b.String()
}

func dumpDir(b *strings.Builder, dir *memNode, indent string) {
	names := slices.Collect(maps.Keys(dir.entries))
	for name := range dir.syncedEntries {
		if _, ok := dir.entries[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		n, ok := dir.entries[name]
		switch {
		case !ok:
			fmt.Fprintf(b, "%s%s  [removed; back after a crash]\n", indent, name)
			continue
		case n.dir:
			fmt.Fprintf(b, "%s%s/", indent, name)
		default:
			fmt.Fprintf(b, "%s%s  %d bytes, %d synced", indent, name, len(n.data), len(n.synced))
		}
		if dir.syncedEntries[name] != n {
			b.WriteString("  [entry not synced]")
		}
		b.WriteString("\n")
		if n.dir {
			dumpDir(b, n, indent+"  ")
		}
	}
}
