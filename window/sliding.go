package window

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/storage"
)

// bufferedRecord is a sliding window's record as kept in the store.
type bufferedRecord struct {
	ts  int64
	seq uint64
	vb  []byte
}

// slidingWindows adds a record (timestamp t) to a key's sliding windows of
// difference d. The windows of a key are L(x) = [x-d, x] for each record x
// and R(x) = [x+1, x+1+d] for each x with a record in (x, x+d]; a window
// is created, when it comes to exist, only if it is still open, from the
// records buffered in its span (they are kept for as long as a window
// containing them could still be created), and then takes the records that
// fall in it while it is open, in arrival order. The record is late when
// its own window L(t), the first of its windows to close, has closed.
func (o *operator[K, V, A]) slidingWindows(kb []byte, r dsl.Record[K, V]) (bool, error) {
	t, d := r.Timestamp, o.def.size
	vb, err := o.vs.Serialize(o.store, r.Value)
	if err != nil {
		return false, fmt.Errorf("window %s: value: %w", o.store, err)
	}
	o.seq++
	if err := o.st.Put(recordKey(kb, t, o.seq), vb); err != nil {
		return false, err
	}
	if err := o.saveMeta(); err != nil {
		return false, err
	}
	late := o.isClosed(t + 1)

	// Existing windows containing t start in [t-d, t]; open ones take the
	// record.
	existing := map[int64]bool{}
	var open []storage.Mutation // key and current value
	lo, hi := timeRange(keyPrefix(tagWindow, kb), t-d, t)
	if err := o.scan(lo, hi, func(k, v []byte) error {
		sw, err := parseWindowKey(k, false)
		if err != nil {
			return err
		}
		existing[sw.start] = true
		if !o.isClosed(sw.start + d + 1) {
			open = append(open, storage.Mutation{Key: bytes.Clone(k), Value: bytes.Clone(v)})
		}
		return nil
	}); err != nil {
		return false, err
	}
	for _, w := range open {
		if err := o.fold(w.Key, w.Value, r); err != nil {
			return false, err
		}
	}

	// Windows that come to exist with this record: L(t), R(x) for each
	// record x in [t-d, t), and R(t) if a record lies in (t, t+d].
	recs, err := o.buffered(kb, t-d, t+d+1)
	if err != nil {
		return false, err
	}
	starts := []int64{t - d}
	after := false
	for i, br := range recs {
		if br.ts < t && (i == 0 || recs[i-1].ts != br.ts) {
			starts = append(starts, br.ts+1)
		}
		after = after || (br.ts > t && br.ts <= t+d)
	}
	for _, s := range starts {
		if !existing[s] {
			if err := o.createSliding(kb, s, recs, r); err != nil {
				return false, err
			}
		}
	}
	if after {
		_, ok, err := o.st.Get(windowKey(kb, t+1, false, 0))
		if err != nil {
			return false, err
		}
		if !ok {
			if err := o.createSliding(kb, t+1, recs, r); err != nil {
				return false, err
			}
		}
	}
	return late, nil
}

// createSliding creates the window [s, s+d] if it is open, from the
// buffered records in its span, folded in arrival order.
func (o *operator[K, V, A]) createSliding(kb []byte, s int64, recs []bufferedRecord, r dsl.Record[K, V]) error {
	end := s + o.def.size + 1
	if o.isClosed(end) {
		return nil
	}
	var in []bufferedRecord
	for _, br := range recs {
		if br.ts >= s && br.ts < end {
			in = append(in, br)
		}
	}
	if len(in) == 0 {
		return nil
	}
	slices.SortFunc(in, func(a, b bufferedRecord) int { return cmp.Compare(a.seq, b.seq) })
	var acc A
	var ts int64
	for i, br := range in {
		v, err := o.vs.Deserialize(o.store, br.vb)
		if err != nil {
			return fmt.Errorf("window %s: buffered value: %w", o.store, err)
		}
		if i == 0 {
			acc = o.first(r.Key, v)
		} else {
			acc = o.add(r.Key, v, acc)
		}
		ts = max(ts, br.ts)
	}
	return o.create(windowKey(kb, s, false, 0), end, ts, acc)
}

// buffered returns a key's buffered records with timestamps in [from, to],
// in timestamp order.
func (o *operator[K, V, A]) buffered(kb []byte, from, to int64) ([]bufferedRecord, error) {
	var out []bufferedRecord
	lo, hi := timeRange(keyPrefix(tagRecord, kb), from, to)
	err := o.scan(lo, hi, func(k, v []byte) error {
		ts, seq, err := parseRecordKey(k)
		if err != nil {
			return err
		}
		out = append(out, bufferedRecord{ts: ts, seq: seq, vb: bytes.Clone(v)})
		return nil
	})
	return out, err
}

// errStopScan, returned by a scan's function, ends the scan early.
var errStopScan = errors.New("window: stop scan")

// scan calls fn with each entry in [lo, hi) of a snapshot of the store,
// until fn returns errStopScan or another error.
func (o *operator[K, V, A]) scan(lo, hi []byte, fn func(k, v []byte) error) error {
	it, err := o.st.Range(lo, hi)
	if err != nil {
		return fmt.Errorf("window %s: %w", o.store, err)
	}
	defer it.Close()
	for it.Next() {
		if err := fn(it.Key(), it.Value()); errors.Is(err, errStopScan) {
			return nil
		} else if err != nil {
			return fmt.Errorf("window %s: %w", o.store, err)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("window %s: %w", o.store, err)
	}
	return nil
}
