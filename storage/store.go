package storage

// Store is an ordered map from byte keys to byte values: the state of one
// task's store (counts, aggregates, join buffers, windows).
//
// Keys are compared as unsigned bytes (bytes.Compare). An empty value is a
// value: Get reports it with ok=true, unlike a key that was never written or
// was deleted.
//
// Concurrency: one goroutine writes (the task: Put, Delete, Apply, Flush,
// Close), any number read at the same time (Get, Range, the task itself and
// interactive queries). Implementations must be safe for that mix.
type Store interface {
	// Name identifies the store in errors and metrics.
	Name() string

	// Get returns the value of key. The returned slice belongs to the
	// caller. A missing key is (nil, false, nil).
	Get(key []byte) (value []byte, ok bool, err error)

	// Put sets key to value. The store copies both; the caller may reuse
	// them as soon as Put returns.
	Put(key, value []byte) error

	// Delete removes key. Deleting a missing key is not an error.
	Delete(key []byte) error

	// Range iterates the keys in [start, end) in ascending byte order. A
	// nil start or end leaves that side unbounded; an empty non-nil end
	// makes the range empty. The iterator sees the store as it was when
	// Range was called (a snapshot) and must be closed.
	Range(start, end []byte) (Iterator, error)

	// Apply performs the mutations in order, as if by Put and Delete. Stores
	// that can (LevelDB) apply them atomically, in one write. Changelog
	// restore and cache flushes use it.
	Apply(batch []Mutation) error

	// Flush makes every write made so far durable on local disk. The engine
	// calls it before writing a checkpoint that claims those writes.
	Flush() error

	// Close releases the store. Iterators still open are closed with it
	// (their Next returns false, their Err ErrClosed) unless the
	// implementation documents otherwise. Close is idempotent; every other
	// method returns ErrClosed afterwards.
	Close() error
}

// BufferedGetter is implemented by stores that can copy a value into a
// buffer the caller reuses (Cached, for values it holds in memory), where
// Get allocates a copy per call. GetInto appends key's value to dst and
// returns the extended slice, or dst and false when key is missing.
type BufferedGetter interface {
	GetInto(key, dst []byte) ([]byte, bool, error)
}

// KeyUpdater is implemented by stores that read-modify-write a key in
// fewer steps than a Get and a Put (Cached: one hash lookup for a key it
// holds unflushed, a lookup and an insert for any other, where Get and Put
// take three and copy the value once more). Update calls f with key's
// value old, if found, and makes what f returns key's new value. f may run
// under the store's lock: it must not use the store, nor keep old or the
// slice it returns after returning.
type KeyUpdater interface {
	Update(key []byte, f func(old []byte, found bool) ([]byte, error)) error
}

// Reverser is implemented by stores that can iterate backwards, which window
// stores need to find the latest windows first. LevelDB, Memory and Cached
// implement it.
type Reverser interface {
	// ReverseRange iterates the keys in [start, end) in descending byte
	// order, with the same bounds rules and snapshot behaviour as Range.
	ReverseRange(start, end []byte) (Iterator, error)
}

// Sizer is implemented by stores that can estimate their size cheaply, for
// metrics and restore planning.
type Sizer interface {
	// ApproximateBytes estimates the bytes the store's keys and values
	// occupy (on disk for LevelDB, in memory for Memory).
	ApproximateBytes() (int64, error)
}

// Mutation is one write of a batch: a put of Key to Value, or a delete of
// Key when Delete is set (Value is then ignored).
type Mutation struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// Iterator walks a range of a store. It starts before the first entry: call
// Next to move onto it.
//
// Key and Value are valid until the next call to Next or Close, and must not
// be modified; copy them to keep them. An iterator is used by one goroutine.
type Iterator interface {
	// Next moves to the next entry and reports whether there is one. It
	// returns false at the end of the range, after an error, and after
	// Close.
	Next() bool
	// Key is the current entry's key.
	Key() []byte
	// Value is the current entry's value.
	Value() []byte
	// Err reports the error that stopped iteration, if any.
	Err() error
	// Close releases the iterator. It is idempotent.
	Close() error
}

// Interface checks: every store in this package is a Store and a Reverser.
var (
	_ Store    = (*LevelDB)(nil)
	_ Store    = (*Memory)(nil)
	_ Store    = (*Cached)(nil)
	_ Reverser = (*LevelDB)(nil)
	_ Reverser = (*Memory)(nil)
	_ Reverser = (*Cached)(nil)
	_ Sizer    = (*LevelDB)(nil)
	_ Sizer    = (*Memory)(nil)
)
