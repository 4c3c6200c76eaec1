package window

import "github.com/eddy-streams/eddy/internal/dsl"

// timeWindows folds a record (timestamp t >= 0) into the tumbling or
// hopping windows containing it: starts s, multiples of the advance, with
// s <= t < s+size and s >= 0. It reports whether some of them had closed.
func (o *operator[K, V, A]) timeWindows(kb []byte, r dsl.Record[K, V]) (bool, error) {
	t, size, adv := r.Timestamp, o.def.size, o.def.advance
	late := false
	// The windows' keys share the key's prefix and are built in one
	// buffer: the store copies what it keeps.
	o.keyBuf = appendKeyPrefix(o.keyBuf[:0], tagWindow, kb)
	prefix := len(o.keyBuf)
	for s := t - t%adv; s > t-size && s >= 0; s -= adv {
		end := s + size
		if o.isClosed(end) {
			late = true
			continue
		}
		o.keyBuf = appendTime(o.keyBuf[:prefix], s)
		if err := o.update(o.keyBuf, end, r); err != nil {
			return false, err
		}
	}
	return late, nil
}
