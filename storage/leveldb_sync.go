package storage

import (
	"fmt"
	"os"
	"sync"

	lstorage "github.com/syndtr/goleveldb/leveldb/storage"
)

// syncStorage wraps goleveldb's file storage so that Flush can make
// unsynced writes durable without writing anything.
//
// goleveldb offers durability only per write (WriteOptions.Sync) and
// ignores empty batches, so "write an empty synced batch" would be a no-op.
// Instead this wrapper remembers the open write-ahead journals and Flush
// fsyncs them. goleveldb hands every Write to the journal file before the
// Write returns, so the file holds everything written so far; fsyncing it
// is what a synced write would have done.
//
// A journal is also fsynced when goleveldb closes it: on a memtable
// rotation the old journal is closed unsynced while its memtable is still
// being compacted into a table, and a later fsync of the new journal would
// not cover it. One fsync per rotation (every write-buffer's worth of data)
// is cheap.
type syncStorage struct {
	lstorage.Storage
	dirSync func() error

	mu       sync.Mutex
	journals map[*syncedJournal]struct{}
}

func newSyncStorage(inner lstorage.Storage, dirSync func() error) *syncStorage {
	return &syncStorage{Storage: inner, dirSync: dirSync, journals: make(map[*syncedJournal]struct{})}
}

// Create wraps journal writers; other files (tables, manifest) are synced
// by goleveldb itself before they are referenced.
func (s *syncStorage) Create(fd lstorage.FileDesc) (lstorage.Writer, error) {
	w, err := s.Storage.Create(fd)
	if err != nil || fd.Type != lstorage.TypeJournal {
		return w, err
	}
	j := &syncedJournal{Writer: w, owner: s}
	s.mu.Lock()
	s.journals[j] = struct{}{}
	s.mu.Unlock()
	return j, nil
}

// syncAll fsyncs every open journal and then the directory, so that a
// journal created since the last manifest update is found after a crash.
func (s *syncStorage) syncAll() error {
	s.mu.Lock()
	open := make([]*syncedJournal, 0, len(s.journals))
	for j := range s.journals {
		open = append(open, j)
	}
	s.mu.Unlock()
	for _, j := range open {
		if err := j.Sync(); err != nil {
			return err
		}
	}
	return s.dirSync()
}

// syncedJournal is a journal writer that is fsynced on Close and can be
// fsynced from outside goleveldb while goleveldb writes to it.
type syncedJournal struct {
	lstorage.Writer
	owner *syncStorage

	mu     sync.Mutex // orders Sync against Close
	closed bool
}

func (j *syncedJournal) Sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		// Closed journals were synced by Close.
		return nil
	}
	return j.Writer.Sync()
}

func (j *syncedJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return j.Writer.Close() // let the inner writer report the double close
	}
	j.closed = true
	j.owner.mu.Lock()
	delete(j.owner.journals, j)
	j.owner.mu.Unlock()
	syncErr := j.Writer.Sync()
	closeErr := j.Writer.Close()
	if syncErr != nil {
		return syncErr
	}
	return closeErr
}

// syncDir fsyncs a directory so that entries created or renamed in it
// survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for sync: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return d.Close()
}
