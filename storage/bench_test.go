package storage

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkLevelDBRestore replays 1,000,000 small records (16-byte keys in
// changelog order, i.e. random key order; 8-byte values) in Apply batches
// of 10,000, then Flushes: what restoring an aggregate store costs. Run
// with -benchtime=1x; it reports keys/s.
func BenchmarkLevelDBRestore(b *testing.B) {
	const total, batchSize = 1_000_000, 10_000
	rng := rand.New(rand.NewPCG(3, 4))
	batches := make([][]Mutation, total/batchSize)
	for i, id := range rng.Perm(total) {
		key := fmt.Appendf(nil, "user-%011d", id)
		val := binary.BigEndian.AppendUint64(nil, uint64(i))
		batches[i/batchSize] = append(batches[i/batchSize], Mutation{Key: key, Value: val})
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		l, err := OpenLevelDB(b.TempDir(), LevelDBOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, batch := range batches {
			if err := l.Apply(batch); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Flush(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		l.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkCachedHotKeys is an aggregation's access pattern: read-modify-
// write of 1,000 hot keys through a 1 MiB cache over LevelDB, with a
// commit (FlushCache) every 10,000 updates. One op is a Get and a Put.
func BenchmarkCachedHotKeys(b *testing.B) {
	l := openTestLevelDB(b)
	flushed := 0
	c := NewCached(l, 1<<20, func(entries []Mutation) error {
		flushed += len(entries)
		return nil
	})
	keys := make([][]byte, 1000)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "word-%06d", i)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	b.ResetTimer()
	for i := range b.N {
		k := keys[rng.IntN(len(keys))]
		v, ok, err := c.Get(k)
		if err != nil {
			b.Fatal(err)
		}
		var n uint64
		if ok {
			n = binary.BigEndian.Uint64(v)
		}
		if err := c.Put(k, binary.BigEndian.AppendUint64(v[:0], n+1)); err != nil {
			b.Fatal(err)
		}
		if i%10_000 == 9_999 {
			if err := c.FlushCache(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(flushed)/float64(b.N), "emitted/op")
}

// BenchmarkRangeScan scans 100,000 keys per op from each store; the cached
// store has 1,000 dirty entries spread through the range to merge.
func BenchmarkRangeScan(b *testing.B) {
	const n = 100_000
	fill := func(s Store) {
		batch := make([]Mutation, 0, n)
		for i := range n {
			batch = append(batch, Mutation{Key: fmt.Appendf(nil, "key-%08d", i), Value: []byte("value-of-sixteen")})
		}
		if err := s.Apply(batch); err != nil {
			b.Fatal(err)
		}
	}
	stores := map[string]func() Store{
		"LevelDB": func() Store { l := openTestLevelDB(b); fill(l); return l },
		"Memory":  func() Store { m := openTestMemory(b); fill(m); return m },
		"Cached/LevelDB": func() Store {
			l := openTestLevelDB(b)
			fill(l)
			c := NewCached(l, 1<<20, nil)
			for i := 0; i < n; i += n / 1000 {
				if err := c.Put(fmt.Appendf(nil, "key-%08d", i), []byte("dirty")); err != nil {
					b.Fatal(err)
				}
			}
			return c
		},
	}
	for _, name := range []string{"LevelDB", "Memory", "Cached/LevelDB"} {
		b.Run(name, func(b *testing.B) {
			s := stores[name]()
			b.ResetTimer()
			seen := 0
			for range b.N {
				it, err := s.Range(nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				for it.Next() {
					seen++
				}
				it.Close()
			}
			if seen != n*b.N {
				b.Fatalf("scanned %d keys, want %d", seen, n*b.N)
			}
			b.ReportMetric(float64(seen)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkLevelDBGet reads random existing keys from a 100,000-key store.
func BenchmarkLevelDBGet(b *testing.B) {
	l := openTestLevelDB(b)
	const n = 100_000
	batch := make([]Mutation, 0, n)
	for i := range n {
		batch = append(batch, Mutation{Key: fmt.Appendf(nil, "key-%08d", i), Value: []byte("value")})
	}
	if err := l.Apply(batch); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	b.ResetTimer()
	for range b.N {
		if _, ok, err := l.Get(batch[rng.IntN(n)].Key); err != nil || !ok {
			b.Fatal("missing key", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// randomKeys returns n distinct random keys of size bytes.
func randomKeys(rng *rand.Rand, n, size int) [][]byte {
	seen := make(map[string]bool, n)
	keys := make([][]byte, 0, n)
	for len(keys) < n {
		k := make([]byte, size)
		for i := 0; i < size; i += 8 {
			binary.LittleEndian.PutUint64(k[i:], rng.Uint64())
		}
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// BenchmarkCachedDirtyGetPut is a point read-modify-write of a key already
// in a 50,000-key dirty set (random 16-byte keys), which is what windowed
// aggregations do several times per record between commits. One op is a
// Get and a Put.
func BenchmarkCachedDirtyGetPut(b *testing.B) {
	const n = 50_000
	rng := rand.New(rand.NewPCG(9, 10))
	keys := randomKeys(rng, n, 16)
	c := NewCached(openTestMemory(b), 1<<30, nil)
	for _, k := range keys {
		if err := c.Put(k, make([]byte, 8)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := keys[rng.IntN(n)]
		v, ok, err := c.Get(k)
		if err != nil || !ok {
			b.Fatal("missing key", err)
		}
		if err := c.Put(k, binary.BigEndian.AppendUint64(v[:0], uint64(i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedPutNewKeys inserts fresh random 16-byte keys into a
// dirty set that grows from empty to 50,000 keys: the cost of a first
// write to a key (new windows).
func BenchmarkCachedPutNewKeys(b *testing.B) {
	const n = 50_000
	keys := randomKeys(rand.New(rand.NewPCG(11, 12)), n, 16)
	value := make([]byte, 8)
	c := NewCached(openTestMemory(b), 1<<30, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 && i > 0 {
			b.StopTimer()
			c = NewCached(openTestMemory(b), 1<<30, nil)
			b.StartTimer()
		}
		if err := c.Put(keys[i%n], value); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedRangeAfterPut is a session window's pattern: every op
// writes a new key into a dirty set of between n and 2n keys and then
// ranges over the few dirty keys sharing its 2-byte prefix. The cost per
// op must grow like log n, not n.
func BenchmarkCachedRangeAfterPut(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(13, uint64(n)))
			base := randomKeys(rng, 2*n, 16)
			filled, fresh := base[:n], base[n:]
			value := make([]byte, 8)
			newCache := func() *Cached {
				c := NewCached(openTestMemory(b), 1<<30, nil)
				for _, k := range filled {
					if err := c.Put(k, value); err != nil {
						b.Fatal(err)
					}
				}
				it, err := c.Range(nil, []byte{0})
				if err != nil {
					b.Fatal(err)
				}
				it.Close()
				return c
			}
			c := newCache()
			seen := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i%n == 0 && i > 0 {
					b.StopTimer()
					c = newCache()
					b.StartTimer()
				}
				k := fresh[i%n]
				if err := c.Put(k, value); err != nil {
					b.Fatal(err)
				}
				end := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(k)+1)
				if end[0] == 0 && end[1] == 0 {
					end = nil
				}
				it, err := c.Range(k[:2], end)
				if err != nil {
					b.Fatal(err)
				}
				for it.Next() {
					seen++
				}
				it.Close()
			}
			if seen < b.N {
				b.Fatalf("ranges saw %d keys in %d ops, want at least the key just written", seen, b.N)
			}
		})
	}
}

// BenchmarkCachedGetAfterFlush is a windowed aggregation between commits:
// read-modify-write of keys that are all in a LevelDB store (or a
// segmented one, as window stores are), through a cache flushed every
// 5,000 ops, the keys drawn uniformly from 5,000 or Zipf-distributed over
// 100,000 (a few thousand hot). A Get of a key not written since the last
// flush goes to the inner store unless the cache answers it; innerGets/op
// says how many did. One op is a Get and a Put.
func BenchmarkCachedGetAfterFlush(b *testing.B) {
	const flushEvery = 5_000
	for _, bc := range []struct {
		name      string
		keys      int
		zipf      bool
		segmented bool
	}{
		{"uniform5k", 5_000, false, false},
		{"zipf100k", 100_000, true, false},
		{"zipf100k/segmented", 100_000, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(15, 16))
			keys := randomKeys(rng, bc.keys, 16)
			var l Store
			if bc.segmented {
				// Times over five segments, none expiring.
				for _, k := range keys {
					binary.BigEndian.PutUint64(k[1:], uint64(rng.IntN(300_000)))
					k[0] = 't'
				}
				s, err := OpenSegmented(b.TempDir(), timeKeyOptions(60_000, 1<<40))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				l = s
			} else {
				l = openTestLevelDB(b)
			}
			batch := make([]Mutation, len(keys))
			for i, k := range keys {
				batch[i] = Mutation{Key: k, Value: make([]byte, 8)}
			}
			if err := l.Apply(batch); err != nil {
				b.Fatal(err)
			}
			pick := func() []byte { return keys[rng.IntN(len(keys))] }
			if bc.zipf {
				z := rand.NewZipf(rng, 1.1, 1, uint64(len(keys)-1))
				pick = func() []byte { return keys[z.Uint64()] }
			}
			inner := &countingStore{Store: l}
			c := NewCached(inner, 1<<20, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := pick()
				v, ok, err := c.Get(k)
				if err != nil || !ok {
					b.Fatal("missing key", err)
				}
				if err := c.Put(k, binary.BigEndian.AppendUint64(v[:0], binary.BigEndian.Uint64(v)+1)); err != nil {
					b.Fatal(err)
				}
				if i%flushEvery == flushEvery-1 {
					if err := c.FlushCache(); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(inner.gets.Load())/float64(b.N), "innerGets/op")
		})
	}
}

// BenchmarkCachedUpdate is a window's read-modify-write through an
// Updater: of a key new to the store (a new window: the dirty set grows
// from empty to 50,000 keys), and of a key already dirty among 50,000.
func BenchmarkCachedUpdate(b *testing.B) {
	const n = 50_000
	keys := randomKeys(rand.New(rand.NewPCG(13, 14)), n, 16)
	add := func(old []byte, found bool) ([]byte, error) {
		var count uint64
		if found {
			count = binary.BigEndian.Uint64(old)
		}
		return binary.BigEndian.AppendUint64(old[:0], count+1), nil
	}
	b.Run("new", func(b *testing.B) {
		c := NewCached(openTestMemory(b), 1<<30, nil)
		u := NewUpdater(c)
		b.ReportAllocs()
		for i := range b.N {
			if i%n == 0 && i > 0 {
				b.StopTimer()
				c = NewCached(openTestMemory(b), 1<<30, nil)
				u = NewUpdater(c)
				b.StartTimer()
			}
			if err := u.Update(keys[i%n], add); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dirty", func(b *testing.B) {
		c := NewCached(openTestMemory(b), 1<<30, nil)
		u := NewUpdater(c)
		for _, k := range keys {
			if err := u.Update(k, add); err != nil {
				b.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(15, 16))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := u.Update(keys[rng.IntN(n)], add); err != nil {
				b.Fatal(err)
			}
		}
	})
}
