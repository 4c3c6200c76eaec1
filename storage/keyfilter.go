package storage

import "hash/maphash"

// keyFilter is a Bloom filter of the keys written to a time segment that
// this process created, so that Get of a key the segment never held (every
// new window: most window-store reads miss) is answered without reaching
// LevelDB. It grows by adding filters of twice the capacity, so no key
// count need be known up front; a key may be in any of them.
//
// It never answers "absent" for a key that was added (no false negatives);
// about 1% of absent keys get "maybe" and go to the store.
type keyFilter struct {
	seed   maphash.Seed
	layers []*bloomLayer
}

type bloomLayer struct {
	bits     []uint64
	keys     int
	capacity int
}

const (
	filterBitsPerKey  = 10
	filterProbes      = 7
	filterFirstLayer  = 1 << 14 // keys
	filterGrowthRatio = 2
)

func newKeyFilter() *keyFilter {
	return &keyFilter{seed: maphash.MakeSeed()}
}

func newBloomLayer(capacity int) *bloomLayer {
	words := (capacity*filterBitsPerKey + 63) / 64
	return &bloomLayer{bits: make([]uint64, words), capacity: capacity}
}

// add records key.
func (f *keyFilter) add(key []byte) {
	n := len(f.layers)
	if n == 0 || f.layers[n-1].keys >= f.layers[n-1].capacity {
		capacity := filterFirstLayer
		if n > 0 {
			capacity = f.layers[n-1].capacity * filterGrowthRatio
		}
		f.layers = append(f.layers, newBloomLayer(capacity))
		n++
	}
	l := f.layers[n-1]
	h1, h2 := f.hashes(key)
	m := uint64(len(l.bits) * 64)
	for i := range uint64(filterProbes) {
		bit := (h1 + i*h2) % m
		l.bits[bit/64] |= 1 << (bit % 64)
	}
	l.keys++
}

// mayContain reports whether key may have been added.
func (f *keyFilter) mayContain(key []byte) bool {
	h1, h2 := f.hashes(key)
	for _, l := range f.layers {
		m := uint64(len(l.bits) * 64)
		found := true
		for i := range uint64(filterProbes) {
			bit := (h1 + i*h2) % m
			if l.bits[bit/64]&(1<<(bit%64)) == 0 {
				found = false
				break
			}
		}
		if found {
			return true
		}
	}
	return false
}

// hashes derives the probe sequence's start and step from one 64-bit hash
// (double hashing); the step is odd so it never repeats a bit early.
func (f *keyFilter) hashes(key []byte) (uint64, uint64) {
	h := maphash.Bytes(f.seed, key)
	return h, (h>>32 | h<<32) | 1
}
