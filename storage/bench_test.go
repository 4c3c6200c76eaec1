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
