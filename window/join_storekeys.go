package window

import (
	"encoding/binary"
	"fmt"
)

// A stream–stream join keeps three segmented stores, with the window
// stores' key encoding (storekeys.go), so that their KeyTime and
// RangeTimes apply unchanged:
//
//	<name>-this   (left records)   'r' klen:u32 key ts:time seq:u64      -> serialized V1
//	              (meta)           'm'                                    -> join time:8 | sequence:8
//	<name>-other  (right records)  'r' klen:u32 key ts:time seq:u64      -> serialized V2
//	<name>-outer  (candidates)     'e' close:time klen:u32 side:1 key ts:time seq:u64
//	                                                                      -> serialized V1 or V2
//
// A record entry's time is its timestamp, so one key's records are
// contiguous and in time order, and the records a new record may join are
// one range scan of the other side's store. seq, the record's arrival
// number in its task, keeps records of equal key and timestamp apart.
//
// Candidates are the left (left and outer joins) and right (outer joins)
// records that have not joined yet. They are ordered by the time their
// window closes, then side, so that the candidates due are a scan from
// the start; the side byte is counted in klen, which lets the window
// stores' KeyTime read a candidate's time (its record's timestamp) as it
// reads a pending window's. The outer store exists only for left and
// outer joins; the meta entry, which has no time, lives in the this
// store's base and never expires.

// candidate is a candidate entry's key, parsed.
type candidate struct {
	close int64
	side  byte
	kb    []byte // serialized record key (aliases the entry's key)
	ts    int64
	seq   uint64
}

// candidateKey is the candidate entry of a record of side, at ts, whose
// window closes at close.
func candidateKey(close int64, side byte, kb []byte, ts int64, seq uint64) []byte {
	b := make([]byte, 0, 1+8+4+1+len(kb)+16)
	b = appendTime(append(b, tagPending), close)
	b = binary.BigEndian.AppendUint32(b, uint32(1+len(kb)))
	b = append(append(b, side), kb...)
	b = appendTime(b, ts)
	return binary.BigEndian.AppendUint64(b, seq)
}

// candidatesFrom is the first candidate key closing at close or later.
func candidatesFrom(close int64) []byte { return appendTime([]byte{tagPending}, close) }

// candidatesEnd is the first key after every candidate.
var candidatesEnd = []byte{tagPending + 1}

// parseCandidate parses a candidate entry's key.
func parseCandidate(b []byte) (candidate, error) {
	const head = 1 + 8 + 4 // tag, close, klen
	if len(b) < head || b[0] != tagPending {
		return candidate{}, fmt.Errorf("%w: candidate %x", errBadStoreKey, b)
	}
	n := int(binary.BigEndian.Uint32(b[9:head]))
	if n < 1 || len(b) != head+n+16 || b[head] > sideRight {
		return candidate{}, fmt.Errorf("%w: candidate %x", errBadStoreKey, b)
	}
	return candidate{
		close: readTime(b[1:9]),
		side:  b[head],
		kb:    b[head+1 : head+n],
		ts:    readTime(b[head+n:]),
		seq:   binary.BigEndian.Uint64(b[head+n+8:]),
	}, nil
}
