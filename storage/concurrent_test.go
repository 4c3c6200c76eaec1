package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrentReadersWithWriter runs one writer and several readers on
// each store (meant for -race). The writer sets 48 "versioned" keys to the
// same version in each atomic Apply and toggles 16 others with Put and
// Delete; the Cached stores also flush and evict meanwhile. Readers check
// that Get never goes back in time for a versioned key, that scans are
// ordered, and that every scan, being a snapshot, sees one version for all
// versioned keys.
func TestConcurrentReadersWithWriter(t *testing.T) {
	const versioned, toggled, rounds, readers = 48, 16, 300, 3
	for _, f := range factories() {
		t.Run(f.name, func(t *testing.T) {
			s := f.open(t)
			vkey := func(i int) []byte { return fmt.Appendf(nil, "v%02d", i) }
			tkey := func(i int) []byte { return fmt.Appendf(nil, "t%02d", i) }
			encode := func(round int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(round)) }

			var done atomic.Bool
			var wg sync.WaitGroup
			errs := make(chan error, readers+1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer done.Store(true)
				cached, _ := s.(*Cached)
				for round := 1; round <= rounds; round++ {
					batch := make([]Mutation, versioned)
					for i := range batch {
						batch[i] = Mutation{Key: vkey(i), Value: encode(round)}
					}
					if err := s.Apply(batch); err != nil {
						errs <- err
						return
					}
					k := tkey(round % toggled)
					var err error
					if round%3 == 0 {
						err = s.Delete(k)
					} else {
						err = s.Put(k, encode(round))
					}
					if err == nil && cached != nil && round%17 == 0 {
						err = cached.FlushCache()
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
			for r := range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := readUntilDone(s, &done, r, versioned, vkey); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// The final state is the last round's.
			for i := range versioned {
				v, ok, err := s.Get(vkey(i))
				if err != nil || !ok || !bytes.Equal(v, encode(rounds)) {
					t.Fatalf("final %s = %x, %v, %v", vkey(i), v, ok, err)
				}
			}
		})
	}
}

func readUntilDone(s Store, done *atomic.Bool, seed, versioned int, vkey func(int) []byte) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	seen := make([]uint64, versioned)
	for iter := 0; !done.Load() || iter < 20; iter++ {
		if iter%4 != 0 {
			i := rng.IntN(versioned)
			v, ok, err := s.Get(vkey(i))
			if err != nil {
				return err
			}
			if !ok {
				if seen[i] != 0 {
					return fmt.Errorf("%s vanished after version %d", vkey(i), seen[i])
				}
				continue
			}
			ver := binary.BigEndian.Uint64(v)
			if ver < seen[i] {
				return fmt.Errorf("%s went back from version %d to %d", vkey(i), seen[i], ver)
			}
			seen[i] = ver
			continue
		}
		var it Iterator
		var err error
		if iter%8 == 0 {
			it, err = s.(Reverser).ReverseRange(nil, nil)
		} else {
			it, err = s.Range(nil, nil)
		}
		if err != nil {
			return err
		}
		var prev []byte
		versions := map[uint64]int{}
		for it.Next() {
			k := it.Key()
			c := bytes.Compare(prev, k)
			if prev != nil && (iter%8 != 0 && c >= 0 || iter%8 == 0 && c <= 0) {
				it.Close()
				return fmt.Errorf("scan out of order: %q then %q", prev, k)
			}
			prev = bytes.Clone(k)
			if k[0] == 'v' {
				versions[binary.BigEndian.Uint64(it.Value())]++
			}
		}
		if err := it.Close(); err != nil {
			return err
		}
		if err := it.Err(); err != nil {
			return err
		}
		if len(versions) > 1 {
			return fmt.Errorf("scan saw versioned keys at several versions %v: not a snapshot", versions)
		}
	}
	return nil
}

// TestCachedCleanLayerConcurrentReads flushes after every round of writes
// to a quarter of the keys, so that most Gets are answered by the clean
// layer, while readers check that no key goes back to an older version or
// vanishes; some flushes fail in onFlush, some in the inner store, which
// drops the clean layer under the readers (meant for -race).
func TestCachedCleanLayerConcurrentReads(t *testing.T) {
	const keys, rounds, readers = 32, 2000, 3
	key := func(i int) []byte { return fmt.Appendf(nil, "k%02d", i) }
	failing := &failingStore{Store: openTestLevelDB(t)}
	var onFlushErr error
	c := NewCached(failing, 1<<20, func([]Mutation) error { return onFlushErr })
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		rng := rand.New(rand.NewPCG(1, 2))
		for round := 1; round <= rounds; round++ {
			for i := range keys {
				if rng.IntN(4) == 0 {
					if err := c.Put(key(i), binary.BigEndian.AppendUint64(nil, uint64(round))); err != nil {
						errs <- err
						return
					}
				}
			}
			onFlushErr, failing.fail = nil, nil
			switch round % 10 {
			case 3:
				onFlushErr = errInjected
			case 7:
				failing.fail = errInjected
			}
			if err := c.FlushCache(); err != nil && !errors.Is(err, errInjected) {
				errs <- err
				return
			}
		}
	}()
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 3))
			seen := make([]uint64, keys)
			for !done.Load() {
				i := rng.IntN(keys)
				v, ok, err := c.Get(key(i))
				if err != nil {
					errs <- err
					return
				}
				var ver uint64
				if ok {
					ver = binary.BigEndian.Uint64(v)
				}
				if ver < seen[i] {
					errs <- fmt.Errorf("%s went back from version %d to %d (found %v)", key(i), seen[i], ver, ok)
					return
				}
				seen[i] = ver
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
