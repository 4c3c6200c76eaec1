package storage

import (
	"bytes"
	"slices"
	"sync"
	"unsafe"

	"github.com/google/btree"
)

// dirtySet is a Cached store's unflushed writes, the last one per key.
//
// Point operations are what every record does, several times, so the
// entries live in a hash map. Key order is only needed by Range and
// FlushCache: an ordered index of the keys is built by the first Range over
// the set and afterwards brought up to date lazily, by the next Range,
// from the list of keys added since. A store that never ranges thus pays
// no ordered insert per write, and one that ranges after every write pays
// one O(log n) insert per new key, never a rebuild.
//
// Keys never leave a dirty set (a Delete is an entry too); the whole set is
// replaced when it is flushed, and then lives on, frozen and without its
// index, for Get only: as the Cached store's entries being flushed, then,
// if the flush succeeds, as its clean layer.
//
// Locking is Cached.mu's: writers (set, restore) hold it exclusively,
// readers (get, rangeCopy, sorted) at least for reading.
type dirtySet struct {
	entries map[string]Mutation // keyed by aliasKey(m.Key)
	bytes   int64               // sum of entrySize over entries

	// idxMu serializes the readers that bring the index up to date, since
	// Range holds Cached.mu only for reading. Writers need not take it:
	// holding Cached.mu exclusively excludes every reader.
	idxMu sync.Mutex
	// index holds every key of entries except those in pending, or is nil
	// when no Range has needed it yet (pending is then empty).
	index   *btree.BTreeG[string]
	pending []string
}

// newDirtySet returns an empty set with room for about hint keys: a
// store's writes between two flushes are usually like those before, and a
// map grown key by key rehashes everything it holds at each doubling.
func newDirtySet(hint int) *dirtySet {
	return &dirtySet{entries: make(map[string]Mutation, hint)}
}

// aliasKey returns a string sharing key's bytes, so the map and the index
// do not hold a second copy of every key. This is safe because the keys it
// is used on are the dirty set's own clones, which nothing modifies: the
// set never writes to them, and onFlush, Store.Apply and iterator users
// must not modify the keys they are given.
func aliasKey(key []byte) string {
	return unsafe.String(unsafe.SliceData(key), len(key))
}

func (d *dirtySet) len() int { return len(d.entries) }

func (d *dirtySet) get(key []byte) (Mutation, bool) {
	m, ok := d.entries[string(key)]
	return m, ok
}

// set records m as key's last write. m.Key may be the caller's: it is
// cloned only when the key is new, and otherwise replaced by the identical
// clone already stored. m.Value must already be the set's own.
func (d *dirtySet) set(m Mutation) {
	if old, ok := d.entries[string(m.Key)]; ok {
		m.Key = old.Key
		d.bytes -= entrySize(old.Key, old.Value)
		d.entries[aliasKey(m.Key)] = m
	} else {
		m.Key = cloneBytes(m.Key)
		d.insert(m)
	}
	d.bytes += entrySize(m.Key, m.Value)
}

// put records key = a copy of value. The copy goes into the buffer of the
// key's current value when that has room: while a set is written its
// values are its own, since readers copy what they take under Cached.mu
// (get's callers, rangeCopy), and a flush hands out only sets that are no
// longer written.
func (d *dirtySet) put(key, value []byte) {
	old, ok := d.entries[string(key)]
	if !ok {
		d.add(key, value)
		return
	}
	d.replace(old, value)
}

// add records key = a copy of value for a key the set does not hold,
// without looking it up first. The copies share one allocation, the value
// right after the key: a lookup compares the key and then reads the
// value, which then usually lies in the same cache line, and in a large
// set each line a lookup touches is a likely cache miss. The key's
// capacity ends where the value starts.
func (d *dirtySet) add(key, value []byte) {
	buf := make([]byte, len(key)+len(value))
	copy(buf, key)
	copy(buf[len(key):], value)
	m := Mutation{Key: buf[:len(key):len(key)], Value: buf[len(key):]}
	d.insert(m)
	d.bytes += entrySize(m.Key, m.Value)
}

// replace makes a copy of value the value of old, an entry of the set.
func (d *dirtySet) replace(old Mutation, value []byte) {
	if !old.Delete && len(old.Value) == len(value) {
		// Same length, same buffer: the entry itself is unchanged, so
		// the map needs no second hashing of the key.
		copy(old.Value, value)
		return
	}
	d.bytes -= entrySize(old.Key, old.Value)
	v := old.Value
	if old.Delete || cap(v) < len(value) {
		v = cloneBytes(value)
	} else {
		v = v[:len(value)]
		copy(v, value)
	}
	d.entries[aliasKey(old.Key)] = Mutation{Key: old.Key, Value: v}
	d.bytes += entrySize(old.Key, v)
}

// restore puts back an entry of a failed flush unless key has been written
// since: the newer write must win. The value is copied: the failed
// flush's listeners may keep its entries, and put may reuse the buffer.
func (d *dirtySet) restore(m Mutation) {
	if _, ok := d.entries[aliasKey(m.Key)]; ok {
		return
	}
	if !m.Delete {
		m.Value = cloneBytes(m.Value)
	}
	d.insert(m)
	d.bytes += entrySize(m.Key, m.Value)
}

// absorb records m, whose key belongs to another set that is no longer
// written, as key's entry in a set that is only read (a merged clean
// layer: no index).
func (d *dirtySet) absorb(m Mutation) {
	if old, ok := d.entries[aliasKey(m.Key)]; ok {
		d.bytes -= entrySize(old.Key, old.Value)
		m.Key = old.Key
	}
	d.entries[aliasKey(m.Key)] = m
	d.bytes += entrySize(m.Key, m.Value)
}

// insert adds a new entry whose key is already the set's own.
func (d *dirtySet) insert(m Mutation) {
	k := aliasKey(m.Key)
	d.entries[k] = m
	if d.index != nil {
		d.pending = append(d.pending, k)
	}
}

// syncIndex builds the index or inserts the keys added since it was last
// synced. The caller holds idxMu.
func (d *dirtySet) syncIndex() {
	if d.index == nil {
		keys := make([]string, 0, len(d.entries))
		for k := range d.entries {
			keys = append(keys, k)
		}
		// Inserting in order keeps each insert on the tree's right edge.
		slices.Sort(keys)
		d.index = btree.NewG(btreeDegree, stringLess)
		for _, k := range keys {
			d.index.ReplaceOrInsert(k)
		}
		return
	}
	for _, k := range d.pending {
		d.index.ReplaceOrInsert(k)
	}
	d.pending = d.pending[:0]
}

func stringLess(a, b string) bool { return a < b }

// rangeCopy copies the entries in [start, end), in ascending order; the
// entries themselves are immutable, so the copy is a snapshot.
func (d *dirtySet) rangeCopy(start, end []byte) []Mutation {
	if len(d.entries) == 0 {
		return nil
	}
	d.idxMu.Lock()
	defer d.idxMu.Unlock()
	d.syncIndex()
	var out []Mutation
	collect := func(k string) bool {
		m := d.entries[k]
		if !m.Delete {
			m.Value = cloneBytes(m.Value) // put may reuse the buffer
		}
		out = append(out, m)
		return true
	}
	// The bounds are only compared with during the call, so aliasing the
	// caller's bytes is safe and saves two allocations per range.
	switch {
	case start != nil && end != nil:
		d.index.AscendRange(aliasKey(start), aliasKey(end), collect)
	case start != nil:
		d.index.AscendGreaterOrEqual(aliasKey(start), collect)
	case end != nil:
		d.index.AscendLessThan(aliasKey(end), collect)
	default:
		d.index.Ascend(collect)
	}
	return out
}

// retire frees the index of a set that is no longer written or ranged
// over: a flushed set is only read by Get. The caller holds Cached.mu
// exclusively.
func (d *dirtySet) retire() {
	d.index, d.pending = nil, nil
}

// list returns the entries in no particular order (in key order if the
// index exists, walking it being cheap).
func (d *dirtySet) list() []Mutation {
	if d.index != nil {
		return d.sorted()
	}
	out := make([]Mutation, 0, len(d.entries))
	for _, m := range d.entries {
		out = append(out, m)
	}
	return out
}

// sorted returns every entry in ascending key order, from the index if a
// Range has built one, else by sorting.
func (d *dirtySet) sorted() []Mutation {
	out := make([]Mutation, 0, len(d.entries))
	d.idxMu.Lock()
	defer d.idxMu.Unlock()
	if d.index == nil {
		for _, m := range d.entries {
			out = append(out, m)
		}
		slices.SortFunc(out, func(a, b Mutation) int { return bytes.Compare(a.Key, b.Key) })
		return out
	}
	d.syncIndex()
	d.index.Ascend(func(k string) bool {
		out = append(out, d.entries[k])
		return true
	})
	return out
}
