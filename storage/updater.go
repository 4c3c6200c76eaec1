package storage

// Updater read-modify-writes keys of one store the cheapest way the store
// offers: by the store itself if it can (KeyUpdater: a write-back cache);
// otherwise the value is read into a buffer the Updater reuses
// (BufferedGetter, else Get) and the new value is Put. An Updater belongs
// to one goroutine (a task's).
type Updater struct {
	st  Store
	upd KeyUpdater
	get BufferedGetter
	buf []byte
}

// NewUpdater returns an Updater of st.
func NewUpdater(st Store) *Updater {
	u := &Updater{st: st}
	u.upd, _ = st.(KeyUpdater)
	u.get, _ = st.(BufferedGetter)
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
