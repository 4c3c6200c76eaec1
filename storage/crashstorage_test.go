package storage

import (
	"bytes"
	"errors"
	"os"
	"sync"

	lstorage "github.com/syndtr/goleveldb/leveldb/storage"
)

// crashStorage is an in-memory goleveldb storage that remembers, per file,
// how much was fsynced, so a test can take the state a power loss would
// leave: every file cut back to its last Sync. Directory entries and the
// CURRENT pointer (SetMeta, which goleveldb writes synced) count as durable.
type crashStorage struct {
	mu     sync.Mutex
	files  map[lstorage.FileDesc]*crashFile
	meta   lstorage.FileDesc
	locked bool
}

type crashFile struct {
	data   []byte
	synced int
}

func newCrashStorage() *crashStorage {
	return &crashStorage{files: make(map[lstorage.FileDesc]*crashFile)}
}

// crash returns the storage as a power loss now would leave it.
func (s *crashStorage) crash() *crashStorage {
	s.mu.Lock()
	defer s.mu.Unlock()
	after := newCrashStorage()
	after.meta = s.meta
	for fd, f := range s.files {
		after.files[fd] = &crashFile{data: bytes.Clone(f.data[:f.synced]), synced: f.synced}
	}
	return after
}

// unsynced returns the bytes written and not yet fsynced, over all files.
func (s *crashStorage) unsynced() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.files {
		n += len(f.data) - f.synced
	}
	return n
}

type crashLock struct{ s *crashStorage }

func (l crashLock) Unlock() {
	l.s.mu.Lock()
	l.s.locked = false
	l.s.mu.Unlock()
}

func (s *crashStorage) Lock() (lstorage.Locker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked {
		return nil, lstorage.ErrLocked
	}
	s.locked = true
	return crashLock{s}, nil
}

func (s *crashStorage) Log(string) {}

func (s *crashStorage) SetMeta(fd lstorage.FileDesc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta = fd
	return nil
}

func (s *crashStorage) GetMeta() (lstorage.FileDesc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[s.meta]; s.meta.Zero() || !ok {
		return lstorage.FileDesc{}, os.ErrNotExist
	}
	return s.meta, nil
}

func (s *crashStorage) List(ft lstorage.FileType) ([]lstorage.FileDesc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var fds []lstorage.FileDesc
	for fd := range s.files {
		if fd.Type&ft != 0 {
			fds = append(fds, fd)
		}
	}
	return fds, nil
}

func (s *crashStorage) Open(fd lstorage.FileDesc) (lstorage.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[fd]
	if !ok {
		return nil, os.ErrNotExist
	}
	return crashReader{bytes.NewReader(bytes.Clone(f.data))}, nil
}

func (s *crashStorage) Create(fd lstorage.FileDesc) (lstorage.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &crashFile{}
	s.files[fd] = f
	return &crashWriter{s: s, f: f}, nil
}

func (s *crashStorage) Remove(fd lstorage.FileDesc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.files[fd]; !ok {
		return os.ErrNotExist
	}
	delete(s.files, fd)
	return nil
}

func (s *crashStorage) Rename(oldfd, newfd lstorage.FileDesc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[oldfd]
	if !ok {
		return os.ErrNotExist
	}
	delete(s.files, oldfd)
	s.files[newfd] = f
	return nil
}

func (s *crashStorage) Close() error { return nil }

type crashReader struct{ *bytes.Reader }

func (crashReader) Close() error { return nil }

type crashWriter struct {
	s      *crashStorage
	f      *crashFile
	closed bool
}

func (w *crashWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.closed {
		return 0, errors.New("write to closed file")
	}
	w.f.data = append(w.f.data, p...)
	return len(p), nil
}

func (w *crashWriter) Sync() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.f.synced = len(w.f.data)
	return nil
}

func (w *crashWriter) Close() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.closed {
		return lstorage.ErrClosed
	}
	w.closed = true
	return nil
}
