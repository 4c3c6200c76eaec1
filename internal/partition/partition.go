package partition

import "encoding/binary"

// The constants of Kafka's murmur2 (Utils.murmur2 in the Java client); part
// of the partitioning contract.
const (
	murmur2Seed = 0x9747b28c
	murmur2Mul  = 0x5bd1e995
	murmur2Rot  = 24
)

// Murmur2 is Kafka's murmur2 hash of key (seed 0x9747b28c), as computed by
// the Java client's Utils.murmur2, returned as the same signed 32-bit value.
// A nil key hashes like an empty one.
func Murmur2(key []byte) int32 {
	h := uint32(murmur2Seed) ^ uint32(len(key))
	for len(key) >= 4 {
		k := binary.LittleEndian.Uint32(key)
		k *= murmur2Mul
		k ^= k >> murmur2Rot
		k *= murmur2Mul
		h = h*murmur2Mul ^ k
		key = key[4:]
	}
	switch len(key) {
	case 3:
		h ^= uint32(key[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[0])
		h *= murmur2Mul
	}
	h ^= h >> 13
	h *= murmur2Mul
	h ^= h >> 15
	return int32(h)
}

// ForKey returns Kafka's default partition for a record whose serialized key
// is key, in a topic of n partitions: (Murmur2(key) & 0x7fffffff) % n.
//
// Call it only for records that have a key; a nil key hashes like an empty
// one, whereas Kafka clients spread keyless records over partitions. n must
// be positive: ForKey returns -1, which is no partition, when it is not.
func ForKey(key []byte, n int32) int32 {
	if n <= 0 {
		return -1
	}
	return (Murmur2(key) & 0x7fffffff) % n
}
