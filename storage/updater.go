package storage

// Updater read-modify-writes keys of one store the cheapest way the store
// offers: a key its write-back cache holds unflushed is folded there in one
// step (DirtyUpdater); otherwise the value is read into a buffer the
// Updater reuses (BufferedGetter, else Get) and the new value is Put. An
// Updater belongs to one goroutine (a task's).
type Updater struct {
	st    Store
	dirty DirtyUpdater
	get   BufferedGetter
	buf   []byte
	// f is the running Update's; foldDirty, made once, hands it to
	// UpdateDirty without a closure per call.
	f         func(old []byte, found bool) ([]byte, error)
	foldDirty func(old []byte) ([]byte, error)
}

// NewUpdater returns an Updater of st.
func NewUpdater(st Store) *Updater {
	u := &Updater{st: st}
	u.dirty, _ = st.(DirtyUpdater)
	u.get, _ = st.(BufferedGetter)
	u.foldDirty = func(old []byte) ([]byte, error) { return u.f(old, true) }
	return u
}

// Update sets key to what f returns given key's value old (if found). old
// is only valid during the call, and f's result is copied; f may run under
// the store's lock, so it must not use the store. An f made once rather
// than per call keeps Update from allocating.
func (u *Updater) Update(key []byte, f func(old []byte, found bool) ([]byte, error)) error {
	if u.dirty != nil {
		u.f = f
		done, err := u.dirty.UpdateDirty(key, u.foldDirty)
		u.f = nil
		if done || err != nil {
			return err
		}
	}
	var old []byte
	var found bool
	var err error
	if u.get != nil {
		// The value is done with before the next read: one buffer will do.
		if old, found, err = u.get.GetInto(key, u.buf[:0]); found {
			u.buf = old
		}
	} else {
		old, found, err = u.st.Get(key)
	}
	if err != nil {
		return err
	}
	v, err := f(old, found)
	if err != nil {
		return err
	}
	return u.st.Put(key, v)
}
