package storage

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SegmentedOptions configures a Segmented store.
type SegmentedOptions struct {
	// Name identifies the store in errors.
	Name string
	// KeyTime returns the time (Unix milliseconds) a key belongs to, which
	// picks its segment. ok false keeps the key outside every segment, in
	// a base store that never expires (a window operator's own metadata).
	// An error fails the operation that met the key.
	KeyTime func(key []byte) (ts int64, ok bool, err error)
	// RangeTimes, if set, bounds the times of the keys in a range: when it
	// returns ok, every key in [start, end) has a time (none is in the
	// base store) within [from, to], and Range and ReverseRange read only
	// the segments holding such times. Scans of one record key's windows
	// then touch one or two segments instead of all of them.
	RangeTimes func(start, end []byte) (from, to int64, ok bool)
	// SegmentInterval is the span of key times one segment holds, in
	// milliseconds (> 0).
	SegmentInterval int64
	// Retention is how far behind the newest key time written a key's time
	// may fall, in milliseconds (>= 0), before the key expires.
	Retention int64
	// LevelDB tunes each segment's database on disk.
	LevelDB LevelDBOptions
}

func (o SegmentedOptions) validate() error {
	switch {
	case o.KeyTime == nil:
		return fmt.Errorf("%w: segmented store %q has no KeyTime function", ErrInvalidOption, o.Name)
	case o.SegmentInterval <= 0:
		return fmt.Errorf("%w: segmented store %q: segment interval %d ms", ErrInvalidOption, o.Name, o.SegmentInterval)
	case o.Retention < 0:
		return fmt.Errorf("%w: segmented store %q: retention %d ms", ErrInvalidOption, o.Name, o.Retention)
	}
	return nil
}

// Segmented is a Store whose keys carry a time and which forgets keys once
// that time falls Retention behind the newest time written: the store
// behind windowed aggregations, whose windows matter only for a while.
//
// Keys are spread over segments by time (KeyTime): segment n holds the keys
// with times in [n*SegmentInterval, (n+1)*SegmentInterval), each segment in
// a LevelDB of its own (subdirectory "seg-<n>") or, in memory, a Memory
// store. Keys without a time live in a base store ("base"). Expiry works in
// two steps:
//
//   - a key whose time is older than observed-Retention, where observed is
//     the newest key time ever put (since the store was opened, see
//     below), is expired: Get and Range no longer see it, and Put, Delete
//     and Apply skip it;
//   - once every time a segment can hold is expired, the whole segment is
//     closed and its directory deleted. Old state thus goes away with a few
//     file deletions instead of a delete per key (and the compactions those
//     would cost).
//
// Order and ranges are those of the keys, across segments: a Range merges
// every live segment's range with the base store's. Writes are visible
// atomically (readers never see half of an Apply), but on disk an Apply
// spanning segments is one LevelDB write per segment: after a crash, the
// engine's changelog replay from the checkpoint rewrites whatever was lost.
// A reopened store takes as observed time the start of its newest segment;
// the first newer put moves it on.
//
// Safe for one writer and any number of concurrent readers. Iterators are
// snapshots; a segment dropped while an iterator reads it is deleted when
// the iterator closes.
type Segmented struct {
	opts SegmentedOptions
	dir  string // "" in memory

	mu       sync.RWMutex
	closed   bool
	base     Store
	segs     map[int64]*segment
	observed int64 // newest key time put; math.MinInt64 before any
}

// segment is one time segment's store.
type segment struct {
	id    int64
	dir   string // "" in memory
	store Store
	// refs counts open iterators over the segment; a segment dropped while
	// referenced is deleted by the last release.
	refs    int
	dropped bool
	// filter holds every key written to a segment this process created
	// (nil for one opened from disk: its keys are unknown), so Get can
	// answer most misses itself. Written under Segmented.mu's write lock.
	filter *keyFilter
}

const (
	segmentPrefix = "seg-"
	baseDirName   = "base"
)

// OpenSegmented opens (creating if needed) the segmented store in dir,
// with one LevelDB per segment. Errors name dir and wrap ErrLocked,
// ErrCorrupt or ErrNotStore (a directory holding anything but segments)
// from the segment that failed; segments opened before it are closed.
func OpenSegmented(dir string, opts SegmentedOptions) (*Segmented, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = filepath.Base(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: open segmented %s: %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("storage: open segmented %s: %w", dir, err)
	}
	ids, err := segmentIDs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open segmented %s: %w", dir, err)
	}
	s := &Segmented{opts: opts, dir: dir, segs: map[int64]*segment{}, observed: math.MinInt64}
	base, err := OpenLevelDB(filepath.Join(dir, baseDirName), s.levelOptions("base"))
	if err != nil {
		return nil, fmt.Errorf("storage: open segmented %s: %w", dir, err)
	}
	s.base = base
	for _, id := range ids {
		seg, err := s.openSegment(id)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("storage: open segmented %s: %w", dir, err), s.Close())
		}
		s.segs[id] = seg
		s.observed = max(s.observed, id*opts.SegmentInterval)
	}
	if err := s.dropExpired(); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// NewSegmentedMemory returns an empty segmented store whose segments are
// Memory stores.
func NewSegmentedMemory(opts SegmentedOptions) (*Segmented, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return &Segmented{opts: opts, base: NewMemory(opts.Name), segs: map[int64]*segment{}, observed: math.MinInt64}, nil
}

// DestroySegmented removes the segmented store in dir. A missing dir is not
// an error. It refuses, with ErrNotStore, a directory holding anything but
// segments and the base store, and with ErrLocked one that is open.
func DestroySegmented(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: destroy segmented %s: %w", dir, err)
	}
	if _, err := segmentIDs(dir); err != nil {
		return fmt.Errorf("storage: destroy segmented %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := Destroy(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("storage: destroy segmented %s: %w", dir, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("storage: destroy segmented %s: %w", dir, err)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("storage: destroy segmented %s: %w", dir, err)
	}
	return nil
}

// segmentIDs lists the segment directories in dir, sorted, refusing
// entries that are neither segments nor the base store.
func segmentIDs(dir string) ([]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, e := range entries {
		if e.IsDir() && e.Name() == baseDirName {
			continue
		}
		rest, ok := strings.CutPrefix(e.Name(), segmentPrefix)
		id, perr := strconv.ParseInt(rest, 10, 64)
		if !e.IsDir() || !ok || perr != nil {
			return nil, fmt.Errorf("%w: unexpected entry %q", ErrNotStore, e.Name())
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (s *Segmented) levelOptions(part string) LevelDBOptions {
	o := s.opts.LevelDB
	o.Name = s.opts.Name + "/" + part
	return o
}

// openNewSegment opens the store of a segment Apply is about to write
// first; it gets a key filter unless its directory already held data (a
// segment whose removal failed), whose keys the filter would not know.
func (s *Segmented) openNewSegment(id int64) (*segment, error) {
	fresh := true
	if s.dir != "" {
		_, err := os.Stat(filepath.Join(s.dir, segmentPrefix+strconv.FormatInt(id, 10)))
		fresh = errors.Is(err, os.ErrNotExist)
	}
	seg, err := s.openSegment(id)
	if err == nil && fresh {
		seg.filter = newKeyFilter()
	}
	return seg, err
}

func (s *Segmented) openSegment(id int64) (*segment, error) {
	name := segmentPrefix + strconv.FormatInt(id, 10)
	if s.dir == "" {
		return &segment{id: id, store: NewMemory(s.opts.Name + "/" + name)}, nil
	}
	dir := filepath.Join(s.dir, name)
	db, err := OpenLevelDB(dir, s.levelOptions(name))
	if err != nil {
		return nil, err
	}
	return &segment{id: id, dir: dir, store: db}, nil
}

// Name returns the store's name.
func (s *Segmented) Name() string { return s.opts.Name }

// Segments returns the ids of the live segments, in time order: segment n
// holds key times in [n*SegmentInterval, (n+1)*SegmentInterval).
func (s *Segmented) Segments() []int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]int64, 0, len(s.segs))
	for id := range s.segs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Observed returns the newest key time put (math.MinInt64 before any).
func (s *Segmented) Observed() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.observed
}

func (s *Segmented) closedErr(op string) error {
	return fmt.Errorf("storage: %s in segmented store %q: %w", op, s.opts.Name, ErrClosed)
}

// expiredBefore returns the oldest key time still live for an observed
// time: keys with times below it are expired.
func expiredBefore(observed, retention int64) int64 {
	if observed < math.MinInt64+retention {
		return math.MinInt64
	}
	return observed - retention
}

// segmentOf returns the segment id of a key time (floor division, so that
// negative times get segments of their own).
func (s *Segmented) segmentOf(ts int64) int64 {
	id := ts / s.opts.SegmentInterval
	if ts%s.opts.SegmentInterval < 0 {
		id--
	}
	return id
}

// keyTime wraps the KeyTime function's error with the store and key.
func (s *Segmented) keyTime(key []byte) (int64, bool, error) {
	ts, ok, err := s.opts.KeyTime(key)
	if err != nil {
		return 0, false, fmt.Errorf("storage: segmented store %q: key %x: %w", s.opts.Name, key, err)
	}
	return ts, ok, nil
}

// Put sets key to value, unless the key has expired.
func (s *Segmented) Put(key, value []byte) error {
	return s.Apply([]Mutation{{Key: key, Value: value}})
}

// Delete removes key.
func (s *Segmented) Delete(key []byte) error {
	return s.Apply([]Mutation{{Key: key, Delete: true}})
}

// Apply performs the mutations, skipping those of expired keys: put times
// first move the observed time on, so a batch never writes what it
// expires. Readers see all of it or none; each segment gets one write.
func (s *Segmented) Apply(batch []Mutation) error {
	type routed struct {
		m    Mutation
		ts   int64
		base bool
	}
	rs := make([]routed, 0, len(batch))
	observed := int64(math.MinInt64)
	for _, m := range batch {
		ts, ok, err := s.keyTime(m.Key)
		if err != nil {
			return err
		}
		rs = append(rs, routed{m: m, ts: ts, base: !ok})
		if ok && !m.Delete {
			observed = max(observed, ts)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.closedErr("apply")
	}
	s.observed = max(s.observed, observed)
	live := expiredBefore(s.observed, s.opts.Retention)
	bySeg := map[int64][]Mutation{}
	var base []Mutation
	for _, r := range rs {
		switch {
		case r.base:
			base = append(base, r.m)
		case r.ts >= live:
			id := s.segmentOf(r.ts)
			bySeg[id] = append(bySeg[id], r.m)
		}
	}
	if len(base) > 0 {
		if err := s.base.Apply(base); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(bySeg)) {
		ms := bySeg[id]
		seg := s.segs[id]
		if seg == nil {
			if !hasPut(ms) {
				continue // deletes of keys the store never had
			}
			var err error
			if seg, err = s.openNewSegment(id); err != nil {
				return fmt.Errorf("storage: segmented store %q: new segment %d: %w", s.opts.Name, id, err)
			}
			s.segs[id] = seg
		}
		if seg.filter != nil {
			// Before the write: a failed Apply may still have written
			// some, and the filter must never miss a key the store has.
			for _, m := range ms {
				if !m.Delete {
					seg.filter.add(m.Key)
				}
			}
		}
		if err := seg.store.Apply(ms); err != nil {
			return err
		}
	}
	return s.dropExpired()
}

func hasPut(ms []Mutation) bool {
	for _, m := range ms {
		if !m.Delete {
			return true
		}
	}
	return false
}

// dropExpired drops every segment whose times are all expired. The caller
// holds mu for writing.
func (s *Segmented) dropExpired() error {
	live := expiredBefore(s.observed, s.opts.Retention)
	var errs []error
	for id, seg := range s.segs {
		// The segment's newest time is (id+1)*interval-1; it is expired
		// when that is below live.
		if (id+1)*s.opts.SegmentInterval-1 >= live {
			continue
		}
		delete(s.segs, id)
		seg.dropped = true
		if seg.refs == 0 {
			errs = append(errs, seg.destroy())
		}
	}
	return errors.Join(errs...)
}

// destroy closes a dropped segment's store and deletes its files.
func (seg *segment) destroy() error {
	err := seg.store.Close()
	if err == nil && seg.dir != "" {
		err = Destroy(seg.dir)
	}
	if err != nil {
		return fmt.Errorf("storage: drop expired segment %d: %w", seg.id, err)
	}
	return nil
}

// Flush makes every write so far durable: each segment's and the base
// store's journals are fsynced.
func (s *Segmented) Flush() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return s.closedErr("flush")
	}
	if err := s.base.Flush(); err != nil {
		return err
	}
	for _, seg := range s.segs {
		if err := seg.store.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// ApproximateBytes sums the sizes of the live segments and the base store.
func (s *Segmented) ApproximateBytes() (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, s.closedErr("size")
	}
	stores := []Store{s.base}
	for _, seg := range s.segs {
		stores = append(stores, seg.store)
	}
	var total int64
	for _, st := range stores {
		if sz, ok := st.(Sizer); ok {
			n, err := sz.ApproximateBytes()
			if err != nil {
				return 0, err
			}
			total += n
		}
	}
	return total, nil
}

// Close closes every segment and the base store; open iterators stop with
// ErrClosed. Close is idempotent.
func (s *Segmented) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.base != nil {
		errs = append(errs, s.base.Close())
	}
	for id, seg := range s.segs {
		errs = append(errs, seg.store.Close())
		delete(s.segs, id)
	}
	return errors.Join(errs...)
}
