package window

import (
	"bytes"
	"math"

	"github.com/eddy-streams/eddy/internal/dsl"
)

// sessionWindows adds a record (timestamp t) to its key's sessions with
// inactivity gap g. A session [s, e] (its first and last records) touches t
// when s-g <= t <= e+g, and closes once the operator's time passes e+g+grace:
// only then can no record extend it. The record is late if the session it
// alone would form has closed (t+g+grace has passed), or if it touches a
// closed session, which is final; otherwise it merges with every session it
// touches. Since a record never touches a closed session, the sessions of a
// key stay more than g apart, and a scan of the key's sessions in end order
// is one in start order too.
func (o *operator[K, V, A]) sessionWindows(kb []byte, r dsl.Record[K, V]) (bool, error) {
	t, gap := r.Timestamp, o.def.size
	if o.isClosed(t + 1) {
		return true, nil
	}
	type session struct {
		key, val []byte
		last     int64
	}
	var touching []session
	lo, hi := timeRange(keyPrefix(tagWindow, kb), t-gap, math.MaxInt64)
	err := o.scan(lo, hi, func(k, v []byte) error {
		sw, err := parseWindowKey(k, true)
		if err != nil {
			return err
		}
		if sw.start > t+gap {
			return errStopScan
		}
		touching = append(touching, session{key: bytes.Clone(k), val: bytes.Clone(v), last: sw.t})
		return nil
	})
	if err != nil {
		return false, err
	}
	start, last, ts := t, t, t
	var acc A
	for i, s := range touching {
		if o.isClosed(s.last + 1) {
			return true, nil
		}
		sw, _ := parseWindowKey(s.key, true)
		start, last = min(start, sw.start), max(last, sw.t)
		sts, sacc, err := o.decode(s.val)
		if err != nil {
			return false, err
		}
		ts = max(ts, sts)
		if i == 0 {
			acc = sacc
		} else {
			acc = o.merge(r.Key, acc, sacc)
		}
	}
	if len(touching) == 0 {
		acc = o.first(r.Key, r.Value)
	} else {
		acc = o.add(r.Key, r.Value, acc)
	}
	merged := windowKey(kb, last, true, start)
	kept := false
	for _, s := range touching {
		if bytes.Equal(s.key, merged) {
			kept = true
			continue
		}
		if err := o.st.Delete(s.key); err != nil {
			return false, err
		}
	}
	if kept {
		return false, o.put(merged, ts, acc)
	}
	return false, o.create(merged, last+1, ts, acc)
}
