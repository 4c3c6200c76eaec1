package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A window store holds three kinds of entries, told apart by their first
// byte. Integers are big-endian; times (int64 milliseconds) have their sign
// bit flipped so that byte order is numeric order, negative times included.
//
//	window   'w' klen:u32 key T:time [S:time]   -> aggregate: timestamp:8 | serialized A
//	record   'r' klen:u32 key ts:time seq:u64   -> serialized V (sliding windows)
//	meta     'm'                                -> operator time:8 | record sequence:8
//
// T, the entry's time, is a window's start for time and sliding windows and
// a session's last record timestamp (its End-1) for sessions, which also
// carry their start S. One key's windows are therefore contiguous and in
// time order, and the store's segments are chosen by T; meta has no time
// and is never expired. The windows an EmitFinal operator has still to
// emit are not entries: they are the stored windows not closed by the
// operator's time (closeQueue). The tag 'e' is a join store's candidates
// (join_storekeys.go).
const (
	tagWindow  = 'w'
	tagPending = 'e'
	tagRecord  = 'r'
	tagMeta    = 'm'
)

var metaKey = []byte{tagMeta}

var errBadStoreKey = errors.New("window: malformed store key")

func appendTime(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^(1<<63))
}

func readTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// keyPrefix is the start of every window entry of a serialized key.
func keyPrefix(tag byte, kb []byte) []byte {
	return appendKeyPrefix(make([]byte, 0, 1+4+len(kb)+16), tag, kb)
}

func appendKeyPrefix(b []byte, tag byte, kb []byte) []byte {
	b = append(b, tag)
	b = binary.BigEndian.AppendUint32(b, uint32(len(kb)))
	return append(b, kb...)
}

// windowKey is the entry of one window of kb: T then, for sessions, the
// start.
func windowKey(kb []byte, t int64, session bool, start int64) []byte {
	b := appendTime(keyPrefix(tagWindow, kb), t)
	if session {
		b = appendTime(b, start)
	}
	return b
}

// storedWindow is a window entry's key, parsed.
type storedWindow struct {
	kb    []byte // serialized record key (aliases the entry's key)
	t     int64  // T
	start int64
}

// parseWindowKey parses a window entry's key (from its tag on).
func parseWindowKey(b []byte, session bool) (storedWindow, error) {
	if len(b) < 5 || b[0] != tagWindow {
		return storedWindow{}, fmt.Errorf("%w: %x", errBadStoreKey, b)
	}
	n := int(binary.BigEndian.Uint32(b[1:5]))
	want := 5 + n + 8
	if session {
		want += 8
	}
	if len(b) != want {
		return storedWindow{}, fmt.Errorf("%w: window entry %x", errBadStoreKey, b)
	}
	w := storedWindow{kb: b[5 : 5+n], t: readTime(b[5+n:])}
	w.start = w.t
	if session {
		w.start = readTime(b[5+n+8:])
	}
	return w, nil
}

// recordKey is a buffered record of kb at ts, seq its arrival number.
func recordKey(kb []byte, ts int64, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendTime(keyPrefix(tagRecord, kb), ts), seq)
}

// parseRecordKey returns a record entry's timestamp and sequence number.
func parseRecordKey(b []byte) (ts int64, seq uint64, err error) {
	if len(b) < 5+16 || b[0] != tagRecord {
		return 0, 0, fmt.Errorf("%w: %x", errBadStoreKey, b)
	}
	n := len(b) - 16
	return readTime(b[n:]), binary.BigEndian.Uint64(b[n+8:]), nil
}

// timeRange returns the [start, end) bounds of the entries of prefix
// (window or record entries of one key) with times in [from, to].
func timeRange(prefix []byte, from, to int64) ([]byte, []byte) {
	start := appendTime(append([]byte(nil), prefix...), from)
	if to == math.MaxInt64 {
		return start, prefixEnd(prefix)
	}
	return start, appendTime(append([]byte(nil), prefix...), to+1)
}

// prefixEnd is the first key after every key starting with prefix; the
// prefixes here start with a tag below 0xff, so there always is one.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// keyTime is the segmented store's KeyTime for window stores.
func keyTime(key []byte) (int64, bool, error) {
	if len(key) == 0 {
		return 0, false, fmt.Errorf("%w: empty key", errBadStoreKey)
	}
	var at int
	switch key[0] {
	case tagMeta:
		return 0, false, nil
	case tagWindow, tagRecord:
		at = 0
	case tagPending:
		at = 8
	default:
		return 0, false, fmt.Errorf("%w: tag %q", errBadStoreKey, key[0])
	}
	if len(key) < at+5 {
		return 0, false, fmt.Errorf("%w: %x", errBadStoreKey, key)
	}
	n := int(binary.BigEndian.Uint32(key[at+1:]))
	if len(key) < at+5+n+8 {
		return 0, false, fmt.Errorf("%w: %x", errBadStoreKey, key)
	}
	return readTime(key[at+5+n:]), true, nil
}

// rangeTimes is the segmented store's RangeTimes for window stores: a
// range of one record key's window or record entries between two times
// (as timeRange makes them) holds entries of those times only. Anything
// else (the pending entries, ordered by close time) is unbounded.
func rangeTimes(start, end []byte) (int64, int64, bool) {
	if len(start) < 5 || (start[0] != tagWindow && start[0] != tagRecord) {
		return 0, 0, false
	}
	n := 5 + int(binary.BigEndian.Uint32(start[1:5]))
	if len(start) < n+8 || len(end) < n || !bytes.Equal(start[:n], end[:n]) {
		return 0, 0, false
	}
	from := readTime(start[n:])
	if len(end) < n+8 {
		return from, math.MaxInt64, true
	}
	return from, readTime(end[n:]), true
}
