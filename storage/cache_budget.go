package storage

import "sync/atomic"

// CacheBudget bounds the dirty bytes of several Cached stores together, as
// Kafka Streams' statestore.cache.max.bytes bounds the caches of all of an
// instance's stores: a busy store can use what quiet ones leave unused.
//
// Each store sharing a budget is given a share (NewSharedCached). A store
// within its share never evicts because of the others; one beyond it
// evicts when the stores together are over the budget. Since the stores
// cannot all be within their shares while over the budget, the total
// stays near it: it can pass it only by what stores within their shares
// write before an oversized store's next write, at most the budget again.
//
// Stores reserve budget in steps rather than per write, so that stores on
// different goroutines rarely touch the shared counter.
type CacheBudget struct {
	max  int64
	used atomic.Int64 // bytes reserved by the stores: a little above their dirty bytes
}

// reserveStep is how much a store reserves at a time.
const reserveStep = 32 << 10

// NewCacheBudget returns a budget of maxBytes (0 or less: none, every
// write evicts).
func NewCacheBudget(maxBytes int) *CacheBudget {
	return &CacheBudget{max: int64(max(maxBytes, 0))}
}

// Reserved returns the bytes the stores have reserved, which is at least
// their dirty bytes and at most reserveStep more per store.
func (b *CacheBudget) Reserved() int64 { return b.used.Load() }
