package vfs

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
)

// CrashOptions says how much unsynced state CrashClone lets survive.
//
// The zero value is the strict model: only what was synced survives. That is
// the minimum a real disk guarantees, and what recovery code must cope with.
// Real disks often keep more, in pieces, and recovery must cope with that
// too; setting Rand makes the crash keep a random part of the unsynced state.
type CrashOptions struct {
	// Rand, when non-nil, draws which unsynced state survives. The same
	// seed on the same MemFS history gives the same crash.
	//
	// Each file whose content changed since its last Sync ends up, with
	// equal chances, as it was at that Sync, as it is now, or torn: the
	// changed bytes landed up to a random point, and half of the torn files
	// also carry a run of zeros or random garbage just past that point,
	// inside the span that was being written. For a file only appended to,
	// torn means the synced bytes, then a prefix of the appended bytes,
	// then possibly garbage — never longer than the file is now.
	Rand *rand.Rand
	// KeepUnsyncedProb is the probability that each unsynced directory
	// change (create, remove, rename, mkdir) survives. A rename survives or
	// rolls back as a whole, both names together, as journaling
	// filesystems guarantee; so do all changes that involve the same inode.
	// Used only when Rand is set.
	KeepUnsyncedProb float64
}

// CrashClone returns a new, independent MemFS holding what a disk would hold
// after a power loss now: directory entries as of each directory's last
// SyncDir and file contents as of each file's last Sync, plus whatever
// unsynced state opts lets survive. Open handles and locks are not carried
// over. m is left untouched and can keep being used.
func (m *MemFS) CrashClone(opts CrashOptions) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &crash{rnd: opts.Rand, clones: make(map[*memNode]*memNode)}
	if opts.Rand != nil {
		c.kept = decideEntryChanges(m.root, opts.Rand, opts.KeepUnsyncedProb)
	}
	return &MemFS{root: c.clone(m.root), locked: make(map[*memNode]bool)}
}

// entryKey names one directory entry.
type entryKey struct {
	dir  *memNode
	name string
}

// crash builds the post-crash tree.
type crash struct {
	rnd    *rand.Rand
	kept   map[entryKey]bool     // unsynced entry changes that survive
	clones map[*memNode]*memNode // an inode reached twice stays one inode
}

func (c *crash) clone(n *memNode) *memNode {
	if cl, ok := c.clones[n]; ok {
		return cl
	}
	cl := &memNode{dir: n.dir, mode: n.mode, modTime: n.modTime}
	c.clones[n] = cl
	if !n.dir {
		cl.data = c.content(n)
		cl.synced = cl.data[:len(cl.data):len(cl.data)]
		cl.shared = true
		return cl
	}
	durable := c.durableEntries(n)
	cl.entries = make(map[string]*memNode, len(durable))
	// Sorted, so that the random draws for file contents follow a fixed
	// order and a seed reproduces a crash.
	for _, name := range slices.Sorted(maps.Keys(durable)) {
		child := durable[name]
		if _, seen := c.clones[child]; seen && child.dir {
			// Snapshots of directories synced at different times can list
			// one directory in two places, even in a loop. A directory has
			// one parent, so the first place found wins.
			continue
		}
		cl.entries[name] = c.clone(child)
	}
	cl.syncedEntries = maps.Clone(cl.entries)
	return cl
}

// durableEntries is what dir lists after the crash: its synced entries, with
// the surviving unsynced changes applied.
func (c *crash) durableEntries(dir *memNode) map[string]*memNode {
	out := make(map[string]*memNode, len(dir.syncedEntries))
	maps.Copy(out, dir.syncedEntries)
	for name, cur := range dir.entries {
		if c.kept[entryKey{dir, name}] {
			out[name] = cur
		}
	}
	for name := range dir.syncedEntries {
		if _, ok := dir.entries[name]; !ok && c.kept[entryKey{dir, name}] {
			delete(out, name)
		}
	}
	return out
}

// content is a file's bytes after the crash.
func (c *crash) content(n *memNode) []byte {
	if c.rnd == nil || bytes.Equal(n.synced, n.data) {
		return bytes.Clone(n.synced)
	}
	switch c.rnd.IntN(3) {
	case 0:
		return bytes.Clone(n.synced)
	case 1:
		return bytes.Clone(n.data)
	}
	return tornContent(c.rnd, n.synced, n.data)
}

// tornContent models a crash in the middle of writing the span where cur
// differs from synced: the new bytes landed up to a random point, the old
// ones remain after it, and sometimes a run right after that point holds
// zeros or garbage, as when a size update landed before the data blocks.
func tornContent(rnd *rand.Rand, synced, cur []byte) []byte {
	lo, hi := dirtySpan(synced, cur)
	if hi <= lo {
		return bytes.Clone(synced) // only a truncation: it landed or not
	}
	k := lo + rnd.IntN(hi-lo+1)
	out := make([]byte, max(k, len(synced)))
	copy(out, synced)
	copy(out, cur[:k])
	if k == hi || rnd.IntN(2) == 0 {
		return out
	}
	end := k + 1 + rnd.IntN(hi-k)
	if end > len(out) {
		out = append(out, make([]byte, end-len(out))...)
	}
	if rnd.IntN(2) == 0 {
		clear(out[k:end])
	} else {
		for i := k; i < end; i++ {
			out[i] = byte(rnd.Uint32())
		}
	}
	return out
}

// dirtySpan returns the range [lo, hi) of cur that differs from synced,
// including any growth past synced's end.
func dirtySpan(synced, cur []byte) (lo, hi int) {
	common := min(len(synced), len(cur))
	for lo < common && synced[lo] == cur[lo] {
		lo++
	}
	if len(cur) > len(synced) {
		return lo, len(cur)
	}
	hi = common
	for hi > lo && synced[hi-1] == cur[hi-1] {
		hi--
	}
	return lo, hi
}

// decideEntryChanges draws which unsynced directory changes survive.
// Changes that involve a common inode (the two names of a rename, a file
// replaced by a rename onto it) are grouped and decided together.
func decideEntryChanges(root *memNode, rnd *rand.Rand, keepProb float64) map[entryKey]bool {
	var changes []entryKey
	groups := unionFind{}
	visited := make(map[*memNode]bool)
	var walk func(dir *memNode)
	walk = func(dir *memNode) {
		if visited[dir] {
			return
		}
		visited[dir] = true
		names := slices.Collect(maps.Keys(dir.entries))
		for name := range dir.syncedEntries {
			if _, ok := dir.entries[name]; !ok {
				names = append(names, name)
			}
		}
		slices.Sort(names) // a fixed order of draws, for reproducible crashes
		for _, name := range names {
			cur, synced := dir.entries[name], dir.syncedEntries[name]
			if cur != synced {
				k := entryKey{dir, name}
				changes = append(changes, k)
				for _, n := range []*memNode{cur, synced} {
					if n != nil {
						groups.union(k, n)
					}
				}
			}
			for _, n := range []*memNode{cur, synced} {
				if n != nil && n.dir {
					walk(n)
				}
			}
		}
	}
	walk(root)

	keptGroups := make(map[any]bool)
	kept := make(map[entryKey]bool)
	for _, k := range changes {
		g := groups.find(k)
		keep, decided := keptGroups[g]
		if !decided {
			keep = rnd.Float64() < keepProb
			keptGroups[g] = keep
		}
		if keep {
			kept[k] = true
		}
	}
	return kept
}

// unionFind groups entry changes (entryKey) with the inodes (*memNode) they
// involve.
type unionFind map[any]any

func (u unionFind) find(x any) any {
	for {
		parent, ok := u[x]
		if !ok || parent == x {
			return x
		}
		if grand, ok := u[parent]; ok {
			u[x] = grand // path halving keeps later finds short
		}
		x = parent
	}
}

func (u unionFind) union(a, b any) {
	if ra, rb := u.find(a), u.find(b); ra != rb {
		u[ra] = rb
	}
}
