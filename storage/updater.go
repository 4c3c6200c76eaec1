package storage

// ValueReader reads values of one store into a buffer it reuses, the
// cheapest way the store offers (BufferedGetter, else Get). A value read
// is valid until the next Read. A ValueReader belongs to one goroutine.
type ValueReader struct {
	st  Store
	get BufferedGetter
	buf []byte
}

// NewValueReader returns a ValueReader of st.
func NewValueReader(st Store) *ValueReader {
	r := &ValueReader{st: st}
	r.get, _ = st.(BufferedGetter)
	return r
}

// Read returns key's value, if found.
func (r *ValueReader) Read(key []byte) ([]byte, bool, error) {
	if r.get == nil {
		return r.st.Get(key)
	}
	v, found, err := r.get.GetInto(key, r.buf[:0])
	if found {
		r.buf = v
	}
	return v, found, err
}

// Updater read-modify-writes keys of one store the cheapest way the store
// offers: by the store itself if it can (KeyUpdater: a write-back cache);
// otherwise the value is read by a ValueReader and the new value is Put.
// An Updater belongs to one goroutine (a task's).
type Updater struct {
	st   Store
	upd  KeyUpdater
	read *ValueReader
}

// NewUpdater returns an Updater of st.
func NewUpdater(st Store) *Updater {
	u := &Updater{st: st, read: NewValueReader(st)}
	u.upd, _ = st.(KeyUpdater)
	return u
}

// Update sets key to what f returns given key's value old (if found). old
// is only valid during the call, and f's result is copied; f may run under
// the store's lock, so it must not use the store. An f made once rather
// than per call keeps Update from allocating.
func (u *Updater) Update(key []byte, f func(old []byte, found bool) ([]byte, error)) error {
	if u.upd != nil {
		return u.upd.Update(key, f)
	}
	// The value is done with before the next read: one buffer will do.
	old, found, err := u.read.Read(key)
	if err != nil {
		return err
	}
	v, err := f(old, found)
	if err != nil {
		return err
	}
	return u.st.Put(key, v)
}
