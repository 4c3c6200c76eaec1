package table

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
)

// The records and store entries of a foreign-key join. They are internal
// to one app, but they outlive a version of it in internal topics and
// changelogs, so each record value starts with a format version.
//
// Subscription record (left → right, key: the foreign key's bytes):
//
//	version (1) | instruction (1) | hash of the left value (16) | primary key
//
// Response record (right → left, key: the primary key's bytes):
//
//	version (1) | flags (1: bit 0 = the right side has the key) | hash (16) | right value
//
// Subscription store (right side) entry:
//
//	key:   len(foreign key) (4, big endian) | foreign key | primary key
//	value: hash (16) | timestamp of the subscription (8, big endian)
//
// Left state store entry, per primary key: what was last subscribed.
//
//	value: timestamp (8) | len(foreign key) (4) | foreign key | left value
const fkFormat = 0

const hashSize = 16

type fkInstruction byte

const (
	// subscribe registers the primary key under the foreign key and asks
	// for a response with the right side's current value.
	subscribe fkInstruction = iota
	// unsubscribe removes the registration; no response.
	unsubscribe
)

var errFKFormat = errors.New("table: foreign-key join record in an unknown format")

// valueHash identifies a left value: a response computed for another
// value of the key is stale and dropped.
func valueHash(v []byte) [hashSize]byte {
	h := fnv.New128a()
	h.Write(v)
	var out [hashSize]byte
	h.Sum(out[:0])
	return out
}

func encodeSubscription(ins fkInstruction, hash [hashSize]byte, pk []byte) []byte {
	out := make([]byte, 0, 2+hashSize+len(pk))
	out = append(out, fkFormat, byte(ins))
	out = append(out, hash[:]...)
	return append(out, pk...)
}

func decodeSubscription(b []byte) (fkInstruction, [hashSize]byte, []byte, error) {
	var hash [hashSize]byte
	if len(b) < 2+hashSize || b[0] != fkFormat || b[1] > byte(unsubscribe) {
		return 0, hash, nil, fmt.Errorf("%w: subscription of %d bytes", errFKFormat, len(b))
	}
	copy(hash[:], b[2:])
	return fkInstruction(b[1]), hash, b[2+hashSize:], nil
}

func encodeResponse(hash [hashSize]byte, right []byte, found bool) []byte {
	out := make([]byte, 0, 2+hashSize+len(right))
	flags := byte(0)
	if found {
		flags = 1
	}
	out = append(out, fkFormat, flags)
	out = append(out, hash[:]...)
	return append(out, right...)
}

func decodeResponse(b []byte) (hash [hashSize]byte, right []byte, found bool, err error) {
	if len(b) < 2+hashSize || b[0] != fkFormat || b[1] > 1 {
		return hash, nil, false, fmt.Errorf("%w: response of %d bytes", errFKFormat, len(b))
	}
	copy(hash[:], b[2:])
	return hash, b[2+hashSize:], b[1] == 1, nil
}

// subscriptionPrefix is the start of every subscription store key of a
// foreign key; the length in front keeps one key from being a prefix of
// another's entries.
func subscriptionPrefix(fk []byte) []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(fk)), uint32(len(fk)))
	return append(out, fk...)
}

func subscriptionKey(fk, pk []byte) []byte {
	return append(subscriptionPrefix(fk), pk...)
}

// primaryKeyOf returns the primary key of a subscription store key.
func primaryKeyOf(key []byte) ([]byte, error) {
	if len(key) < 4 || uint64(len(key)) < 4+uint64(binary.BigEndian.Uint32(key)) {
		return nil, fmt.Errorf("%w: subscription key of %d bytes", errFKFormat, len(key))
	}
	return key[4+binary.BigEndian.Uint32(key):], nil
}

// prefixEnd returns the smallest key above every key starting with
// prefix, or nil if there is none (all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func encodeSubscriptionEntry(hash [hashSize]byte, ts int64) []byte {
	out := append(make([]byte, 0, hashSize+8), hash[:]...)
	return binary.BigEndian.AppendUint64(out, uint64(ts))
}

func decodeSubscriptionEntry(b []byte) ([hashSize]byte, int64, error) {
	var hash [hashSize]byte
	if len(b) != hashSize+8 {
		return hash, 0, fmt.Errorf("%w: subscription entry of %d bytes", errFKFormat, len(b))
	}
	copy(hash[:], b)
	return hash, int64(binary.BigEndian.Uint64(b[hashSize:])), nil
}

func encodeLeftState(ts int64, fk, value []byte) []byte {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 12+len(fk)+len(value)), uint64(ts))
	out = binary.BigEndian.AppendUint32(out, uint32(len(fk)))
	out = append(out, fk...)
	return append(out, value...)
}

func decodeLeftState(b []byte) (ts int64, fk, value []byte, err error) {
	if len(b) < 12 || uint64(len(b)) < 12+uint64(binary.BigEndian.Uint32(b[8:])) {
		return 0, nil, nil, fmt.Errorf("%w: left state of %d bytes", errFKFormat, len(b))
	}
	n := binary.BigEndian.Uint32(b[8:])
	return int64(binary.BigEndian.Uint64(b)), b[12 : 12+n], b[12+n:], nil
}
