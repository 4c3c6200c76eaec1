package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Cached is a write-back cache in front of another Store. Writes collect in
// a dirty set, where repeated updates of a key collapse to the last; a
// flush hands the dirty set to a callback (the engine writes it to the
// changelog and forwards it downstream) and then applies it to the inner
// store. N updates of a key between two flushes thus cost one changelog
// record, one downstream record and one inner write.
//
// # Flushing
//
// FlushCache calls onFlush once with every dirty entry exactly once, in
// ascending key order, each with the key's last value or a deletion; then
// applies the same entries to the inner store with Apply; then empties the
// dirty set. Nothing is fsynced. If onFlush or Apply fails, the entries stay
// dirty (under any newer writes) and the next flush emits them again: at
// least once.
//
// The entries of the last successful flush stay in memory as a clean layer
// that Get reads before the inner store: a key written shortly before a
// commit is usually read again soon after it, and would otherwise cost an
// inner read (a LevelDB lookup) each time. The layer is what that flush
// applied, and the inner store receives nothing else while it exists, so
// the two agree and Range, which reads the inner store, need not merge it.
// When the next flush begins the layer joins the older clean layers (merged
// into one map of at most maxBytes; replaced by it when the merge would
// exceed that), which Get reads after it: the flush's entries, read first,
// shadow whatever the flush changes in the inner store under them. A
// failed flush drops every clean layer, the inner store being then
// possibly half written; so do Abandon and Close; and nothing may write to
// Inner once the cache has been written to. An inner store that expires keys by itself (Segmented) may
// have skipped some of the entries: every clean hit asks it whether the key
// has expired.
//
// Flush is FlushCache followed by the inner store's Flush (fsync).
//
// When a write takes the dirty bytes over maxBytes the cache evicts by
// flushing the whole dirty set through onFlush, as if FlushCache had been
// called; an eviction error is returned by the write that caused it, which
// itself stays dirty. The dirty bytes are key + value + a fixed per-entry
// overhead, so the dirty set is bounded by maxBytes plus the last write, not
// by the number of keys; the clean layer, or during a flush the entries
// being flushed, is one former dirty set, and the older clean layers hold
// at most maxBytes (or one former dirty set, when that is larger), so the
// cache holds at most about three times maxBytes (plus what onFlush writes
// back while it runs, which is not evicted). maxBytes 0 (or negative)
// disables buffering: every write flushes at once.
//
// A cache made by NewSharedCached shares a CacheBudget with other stores
// instead: maxBytes is its share, and it evicts once beyond that only when
// the stores together are over the budget, so its dirty set (and the clean
// layers, which are former dirty sets) can grow up to about the budget
// while the other stores leave it room.
//
// The engine's commit is then:
//
//  1. FlushCache — changelog records are produced, downstream records
//     forwarded, the inner store updated;
//  2. flush the producer — the changelog records are acknowledged;
//  3. commit the input offsets;
//  4. Flush — the cache is empty now, so this only fsyncs the inner store;
//  5. WriteCheckpoint with the changelog offsets of step 2.
//
// # Re-entrancy and concurrency
//
// onFlush runs without the cache's lock. While it runs, reads see the
// entries being flushed, and writes (a downstream processor writing back
// to this store) go to a fresh dirty set that the next flush emits; no
// eviction happens during onFlush, and FlushCache or Flush called from it
// return ErrFlushInProgress.
//
// Writes (Put, Delete, Apply, FlushCache, Flush, Close) come from one
// goroutine at a time, the task; Get and Range may run concurrently from
// any goroutine. Range iterators are snapshots.
//
// # Cost
//
// Get, Put and Delete of a dirty key are hash-map operations (a Put of a
// dirty key writes the value into the old one's buffer when it fits, so an
// update allocates nothing; readers copy values under the lock), and so is a
// Get answered by the clean layer (plus the inner store's expiry check, if
// it has one): the flushed dirty set's map becomes the clean layer, which
// thus costs no copy. Key order is paid for only when used: the first Range
// after a flush indexes the dirty keys (O(n log n)), later Ranges first
// index the keys written since (O(log n) each), and a Range copies the
// dirty entries within its bounds. A flush walks that index, or sorts the
// dirty entries if no Range has built one.
type Cached struct {
	inner    Store
	maxBytes int64 // the store's share of budget
	budget   *CacheBudget
	// reserved is what the store holds of budget, at least the dirty
	// set's bytes (under mu).
	reserved int64
	onFlush  func(entries []Mutation) error

	// expiry is inner's, if it forgets keys by itself.
	expiry expirer

	mu    sync.RWMutex
	dirty *dirtySet
	// prev is the dirty set before dirty, if any: while inFlush, the
	// entries being flushed (flushing holds them sorted, for Range);
	// otherwise the clean layer. There is never both, which bounds memory
	// and means Get needs one lookup for the two.
	prev *dirtySet
	// older merges the clean layers of earlier successful flushes, up to
	// maxBytes: a window or table key is often read again a few commits
	// after it was last written. The inner store holds the same (only
	// successful flushes feed it, and any failure drops it); a key also
	// in prev or dirty is shadowed there.
	older    *dirtySet
	flushing []Mutation
	// flushingSorted says flushing is in key order: unless unordered.
	flushingSorted, unordered bool
	inFlush                   bool
	closed                    bool

	// scratch is the writing goroutine's buffer for Update's reads; only
	// that goroutine uses it.
	scratch []byte
}

// expirer is an inner store that expires keys by itself. expired reports
// whether its Get would now find nothing for key however it was written;
// when unsure (an error) it says true, so that the caller asks Get.
type expirer interface {
	expired(key []byte) bool
}

// NewCached wraps inner in a write-back cache of at most maxBytes dirty
// bytes. onFlush receives each flush's entries; they are sorted by key
// (unless SetUnorderedFlush), and must not be modified (they are applied to inner afterwards) but may be
// kept. A nil onFlush only applies entries to inner.
func NewCached(inner Store, maxBytes int, onFlush func(entries []Mutation) error) *Cached {
	return NewSharedCached(inner, NewCacheBudget(maxBytes), maxBytes, onFlush)
}

// NewSharedCached is NewCached with the dirty bytes bounded by a budget
// shared with other stores, of which this one is sure of share bytes (see
// CacheBudget); share also bounds its older clean layers, as maxBytes does
// NewCached's.
func NewSharedCached(inner Store, budget *CacheBudget, share int, onFlush func(entries []Mutation) error) *Cached {
	maxBytes := max(share, 0)
	if onFlush == nil {
		onFlush = func([]Mutation) error { return nil }
	}
	expiry, _ := inner.(expirer)
	return &Cached{
		inner:    inner,
		budget:   budget,
		maxBytes: int64(maxBytes),
		onFlush:  onFlush,
		expiry:   expiry,
		dirty:    newDirtySet(0),
	}
}

// SetUnorderedFlush says whether onFlush needs the entries in key order.
// When nothing does (the engine only writes them to the changelog), a
// flush skips sorting them; a Range during the flush sorts the part of
// them it needs instead.
func (c *Cached) SetUnorderedFlush(unordered bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unordered = unordered
}

// Name returns the inner store's name.
func (c *Cached) Name() string { return c.inner.Name() }

// Inner returns the store behind the cache. Changelog restore writes to it
// directly: restored records must not be emitted again. Such writes must
// come before the cache's first write: the clean layer would shadow them.
func (c *Cached) Inner() Store { return c.inner }

// DirtyBytes returns the bytes counted against maxBytes.
func (c *Cached) DirtyBytes() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return int(c.dirty.bytes)
}

// DirtyLen returns the number of dirty keys.
func (c *Cached) DirtyLen() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.dirty.len()
}

func (c *Cached) closedErr(op string) error {
	return fmt.Errorf("storage: %s in cached store %q: %w", op, c.inner.Name(), ErrClosed)
}

// Get returns key's value from the dirty set, the entries being flushed or
// else the clean layer, or the inner store, in that order.
func (c *Cached) Get(key []byte) ([]byte, bool, error) {
	return c.GetInto(key, nil)
}

// GetInto is Get appending the value to dst: a value held in memory costs
// no allocation when dst has room (storage.BufferedGetter).
func (c *Cached) GetInto(key, dst []byte) ([]byte, bool, error) {
	return c.getInto(key, dst, true)
}

// getInto is GetInto, looking at the dirty set only if dirty is set.
func (c *Cached) getInto(key, dst []byte, dirty bool) ([]byte, bool, error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, false, c.closedErr("get")
	}
	var e Mutation
	var ok bool
	if dirty {
		e, ok = c.dirty.get(key)
	}
	clean := false
	if !ok && c.prev != nil {
		e, ok = c.prev.get(key)
		clean = ok && !c.inFlush
	}
	if !ok && c.older != nil {
		e, ok = c.older.get(key)
		clean = ok
	}
	// The value is copied under the lock: a Put reuses a dirty value's
	// buffer.
	var v []byte
	if ok && !e.Delete {
		if dst == nil {
			v = cloneBytes(e.Value)
		} else {
			v = append(dst, e.Value...)
		}
	}
	c.mu.RUnlock()
	if clean && c.expiry != nil && c.expiry.expired(key) {
		// The inner store hides the key now; ask it, so that Get and
		// Range agree. (Checked after unlocking: a flush since then can
		// only expire more, and asking the inner store is then right too.)
		ok = false
	}
	if ok {
		if e.Delete {
			return dst, false, nil
		}
		return v, true, nil
	}
	// The inner store is read outside the lock: it only ever receives the
	// entries being flushed, so it can be newer than the layers above
	// (never older), which still gives a value the key had during this call.
	v, ok, err := c.inner.Get(key)
	switch {
	case dst == nil || err != nil:
		return v, ok, err
	case !ok:
		return dst, false, nil
	}
	return append(dst, v...), true, nil
}

// Put buffers key = value and evicts if the dirty bytes exceed the bound.
func (c *Cached) Put(key, value []byte) error {
	if err := c.lockOpen("put"); err != nil {
		return err
	}
	// The dirty set copies the key if it is new, and the value into the
	// key's current buffer if that has room.
	c.dirty.put(key, value)
	return c.afterWrite("put")
}

// Update implements KeyUpdater. A dirty key is updated in one lookup,
// with f under the lock. Any other key is read as GetInto would without
// looking at the dirty set again, and inserted there without a second
// lookup: only the writing goroutine adds keys to the dirty set (see the
// type's documentation), so a key it did not find there stays out of it
// until it inserts the key itself.
func (c *Cached) Update(key []byte, f func(old []byte, found bool) ([]byte, error)) error {
	done, err := c.updateDirty(key, f)
	if done || err != nil {
		return err
	}
	// The read goes into the writer's own buffer: the value is done with
	// before the writer's next read.
	old, found, err := c.getInto(key, c.scratch[:0], false)
	if err != nil {
		return err
	}
	if found {
		c.scratch = old
	}
	v, err := f(old, found)
	if err != nil {
		return err
	}
	if err := c.lockOpen("update"); err != nil {
		return err
	}
	c.dirty.add(key, v)
	return c.afterWrite("update")
}

// updateDirty makes f's result key's value if key is in the dirty set,
// reporting whether it was.
func (c *Cached) updateDirty(key []byte, f func(old []byte, found bool) ([]byte, error)) (bool, error) {
	c.mu.Lock()
	locked := true
	defer func() {
		if locked { // f failed or panicked
			c.mu.Unlock()
		}
	}()
	if c.closed {
		return false, c.closedErr("update")
	}
	e, ok := c.dirty.get(key)
	if !ok {
		return false, nil
	}
	var old []byte
	if !e.Delete {
		old = e.Value
	}
	value, err := f(old, !e.Delete)
	if err != nil {
		return false, err
	}
	c.dirty.replace(e, value)
	locked = false
	return true, c.afterWrite("update")
}

// Delete buffers a deletion of key, which hides the inner store's value
// until it is flushed there.
func (c *Cached) Delete(key []byte) error {
	return c.write("delete", Mutation{Key: key, Delete: true})
}

// Apply buffers the mutations like Puts and Deletes, then evicts once if
// needed. It does not write to the inner store: use Inner for restore.
func (c *Cached) Apply(batch []Mutation) error {
	// Values are copied here, outside the lock; keys by the dirty set, and
	// only when new.
	ms := make([]Mutation, len(batch))
	for i, m := range batch {
		ms[i] = Mutation{Key: m.Key, Delete: m.Delete}
		if !m.Delete {
			ms[i].Value = cloneBytes(m.Value)
		}
	}
	return c.write("apply", ms...)
}

func (c *Cached) write(op string, ms ...Mutation) error {
	if err := c.lockOpen(op); err != nil {
		return err
	}
	for _, m := range ms {
		c.dirty.set(m)
	}
	return c.afterWrite(op)
}

// lockOpen takes mu for writing, or reports op refused, with mu released,
// if the store is closed.
func (c *Cached) lockOpen(op string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.closedErr(op)
	}
	return nil
}

// afterWrite charges a write to the budget, unlocks mu (held by the
// caller) and evicts if the write took the store over its bound.
func (c *Cached) afterWrite(op string) error {
	evict := c.charge() && !c.inFlush
	c.mu.Unlock()
	if !evict {
		return nil
	}
	if err := c.FlushCache(); err != nil {
		return fmt.Errorf("storage: evict cached store %q after %s: %w", c.inner.Name(), op, err)
	}
	return nil
}

// charge reserves budget for the dirty set's bytes and tells whether the
// store should evict: it is beyond its share and the stores sharing the
// budget are over it. The caller holds mu exclusively.
func (c *Cached) charge() bool {
	if c.dirty.bytes > c.reserved {
		grow := max(c.dirty.bytes-c.reserved, reserveStep)
		c.budget.used.Add(grow)
		c.reserved += grow
	}
	return c.dirty.bytes > c.maxBytes && c.budget.used.Load() > c.budget.max
}

// release gives back the budget reserved for a dirty set that is gone.
// The caller holds mu exclusively.
func (c *Cached) release() {
	c.budget.used.Add(-c.reserved)
	c.reserved = 0
}

// FlushCache emits the dirty entries through onFlush and applies them to
// the inner store, without fsync. See the type's documentation.
func (c *Cached) FlushCache() error {
	if err := c.lockOpen("flush"); err != nil {
		return err
	}
	if c.inFlush {
		c.mu.Unlock()
		return fmt.Errorf("storage: flush cached store %q: %w", c.inner.Name(), ErrFlushInProgress)
	}
	if c.dirty.len() == 0 {
		c.mu.Unlock()
		return nil
	}
	var entries []Mutation
	if c.unordered {
		entries = c.dirty.list()
	} else {
		entries = c.dirty.sorted()
	}
	c.flushingSorted = !c.unordered
	// The last clean layer joins the older ones; this flush's set, being
	// looked up first, shadows whatever the inner store is about to
	// change under them, and replaces prev if the flush succeeds.
	if c.prev != nil {
		c.older = mergeClean(c.older, c.prev, c.maxBytes)
	}
	c.prev = c.dirty
	c.prev.retire()
	c.flushing = entries
	c.inFlush = true
	c.dirty = newDirtySet(c.prev.len())
	c.release()
	c.mu.Unlock()

	done := false
	defer func() {
		// Also runs if onFlush panics, so the entries are not lost and
		// the cache does not stay "in flush" forever.
		c.finishFlush(entries, done)
	}()
	if err := c.onFlush(entries); err != nil {
		return fmt.Errorf("storage: flush cached store %q: %w", c.inner.Name(), err)
	}
	if err := c.inner.Apply(entries); err != nil {
		return fmt.Errorf("storage: flush cached store %q to inner store: %w", c.inner.Name(), err)
	}
	done = true
	return nil
}

// finishFlush ends a flush. When it succeeded, its entries, now in the
// inner store, stay as the clean layer. When it failed, they return to the
// dirty set beneath any write made since, and there is no clean layer: the
// inner store may hold part of them.
func (c *Cached) finishFlush(entries []Mutation, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushing = nil
	c.inFlush = false
	if !ok || c.closed {
		c.prev, c.older = nil, nil
	}
	if ok {
		return
	}
	for _, m := range entries {
		c.dirty.restore(m)
	}
	c.charge()
}

// mergeClean adds a former clean layer to the older ones, unless that
// would take them over maxBytes: then it replaces them.
func mergeClean(older, last *dirtySet, maxBytes int64) *dirtySet {
	if older == nil || older.bytes+last.bytes > maxBytes {
		return last
	}
	for _, m := range last.entries {
		older.absorb(m)
	}
	return older
}

// Flush flushes the cache, then makes the inner store durable.
func (c *Cached) Flush() error {
	if err := c.FlushCache(); err != nil {
		return err
	}
	return c.inner.Flush()
}

// Close flushes the cache (emitting through onFlush) and closes the inner
// store, which is closed even if the flush fails. Use Abandon to close
// without emitting.
func (c *Cached) Close() error {
	c.mu.RLock()
	closed := c.closed
	c.mu.RUnlock()
	if closed {
		return nil
	}
	flushErr := c.FlushCache()
	c.mu.Lock()
	c.closed = true
	c.prev, c.older = nil, nil
	c.release()
	c.mu.Unlock()
	return errors.Join(flushErr, c.inner.Close())
}

// Abandon drops the dirty entries without emitting them and closes the
// inner store: for a task that is closed after a failure and whose state
// will be rebuilt from the changelog.
func (c *Cached) Abandon() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.dirty = newDirtySet(0)
	c.prev, c.older = nil, nil
	c.release()
	c.mu.Unlock()
	return c.inner.Close()
}

// flushingWithin returns the entries being flushed within [start, end),
// in key order. The caller holds mu.
func (c *Cached) flushingWithin(start, end []byte) []Mutation {
	if c.flushingSorted {
		return boundSlice(c.flushing, start, end)
	}
	var in []Mutation
	for _, m := range c.flushing {
		if (start == nil || bytes.Compare(m.Key, start) >= 0) && (end == nil || bytes.Compare(m.Key, end) < 0) {
			in = append(in, m)
		}
	}
	slices.SortFunc(in, func(a, b Mutation) int { return bytes.Compare(a.Key, b.Key) })
	return in
}

// Range iterates [start, end) in ascending order, merging the dirty
// entries and those being flushed with the inner store. The clean layer
// is left out: the inner store holds the same.
func (c *Cached) Range(start, end []byte) (Iterator, error) {
	return c.mergedRange(start, end, false)
}

// ReverseRange iterates [start, end) in descending order; the inner store
// must be a Reverser.
func (c *Cached) ReverseRange(start, end []byte) (Iterator, error) {
	return c.mergedRange(start, end, true)
}

func (c *Cached) mergedRange(start, end []byte, reverse bool) (Iterator, error) {
	// The inner iterator is opened under the read lock so that the three
	// layers form one snapshot: while the lock is held the inner store can
	// only receive the entries being flushed, which the middle layer holds
	// too.
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, c.closedErr("range")
	}
	if end != nil && bytes.Compare(start, end) >= 0 {
		return emptyIterator{}, nil
	}
	var inner Iterator
	var err error
	if reverse {
		r, ok := c.inner.(Reverser)
		if !ok {
			return nil, fmt.Errorf("storage: reverse range in cached store %q: inner %T: %w", c.inner.Name(), c.inner, ErrUnsupported)
		}
		inner, err = r.ReverseRange(start, end)
	} else {
		inner, err = c.inner.Range(start, end)
	}
	if err != nil {
		return nil, err
	}
	return newMergeIterator(reverse,
		newSliceSource(c.dirty.rangeCopy(start, end), reverse),
		newSliceSource(c.flushingWithin(start, end), reverse),
		iteratorSource{inner},
	), nil
}
