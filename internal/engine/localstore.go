package engine

import (
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// openDiskStore opens a store's local state in dir: a LevelDB, or for a
// segmented spec (window stores) a directory of LevelDBs, one per time
// segment.
func openDiskStore(spec *topology.StoreSpec, dir string) (storage.Store, error) {
	if spec.Segmented != nil {
		s, err := storage.OpenSegmented(dir, segmentedOptions(spec))
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	db, err := storage.OpenLevelDB(dir, storage.LevelDBOptions{Name: spec.Name})
	if err != nil {
		return nil, err
	}
	return db, nil
}

// destroyDiskStore wipes a store's local state in dir (missing is fine).
func destroyDiskStore(spec *topology.StoreSpec, dir string) error {
	if spec.Segmented != nil {
		return storage.DestroySegmented(dir)
	}
	return storage.Destroy(dir)
}

// newMemoryStore returns an empty in-memory store for spec.
func newMemoryStore(spec *topology.StoreSpec) (storage.Store, error) {
	if spec.Segmented != nil {
		s, err := storage.NewSegmentedMemory(segmentedOptions(spec))
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return storage.NewMemory(spec.Name), nil
}

func segmentedOptions(spec *topology.StoreSpec) storage.SegmentedOptions {
	o := *spec.Segmented
	o.Name = spec.Name
	return o
}

// cacheShare is how the stores' write-back caches share CacheMaxBytes:
// one budget for all the instance's stores, of which each is sure of an
// equal share (storage.CacheBudget).
type cacheShare struct {
	budget   *storage.CacheBudget
	perStore int
}

func newCacheShare(maxBytes int, p *plan) cacheShare {
	stores := 0
	for _, st := range p.subs {
		stores += len(st.Stores) * int(p.tasks[st.ID])
	}
	return cacheShare{budget: storage.NewCacheBudget(maxBytes), perStore: maxBytes / max(stores, 1)}
}
