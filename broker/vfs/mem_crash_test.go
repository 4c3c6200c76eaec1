package vfs

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// strict is the crash model recovery code must always survive.
var strict = CrashOptions{}

func newMemWithDir(t *testing.T) (*MemFS, string) {
	t.Helper()
	m := NewMem()
	mustMkdirAll(t, m, "/db")
	mustSyncDir(t, m, "/")
	return m, "/db"
}

func TestCrashKeepsOnlySyncedContent(t *testing.T) {
	m, dir := newMemWithDir(t)
	f, err := m.Create(dir + "/seg")
	if err != nil {
		t.Fatal(err)
	}
	mustSyncDir(t, m, dir)
	mustWrite(t, f, []byte("unsynced"))
	wantContent(t, m.CrashClone(strict), dir+"/seg", nil)

	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("-tail"))
	wantContent(t, m.CrashClone(strict), dir+"/seg", []byte("unsynced"))
	wantContent(t, m, dir+"/seg", []byte("unsynced-tail")) // the original is untouched
}

func TestCrashUndoesUnsyncedOverwriteAndTruncate(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "f", []byte("abcdef"))
	f, err := m.OpenReadWrite(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustWriteAt(t, f, []byte("XY"), 1)
	if err := f.Truncate(3); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("Z"))
	wantContent(t, m, dir+"/f", []byte("aXYZ"))
	wantContent(t, m.CrashClone(strict), dir+"/f", []byte("abcdef"))

	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, m.CrashClone(strict), dir+"/f", []byte("aXYZ"))
}

func TestCrashLosesCreateWithoutSyncDir(t *testing.T) {
	m, dir := newMemWithDir(t)
	f, err := m.Create(dir + "/seg")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("data"))
	if err := f.Sync(); err != nil { // content synced, entry not
		t.Fatal(err)
	}
	wantMissing(t, m.CrashClone(strict), dir+"/seg")

	mustSyncDir(t, m, dir)
	wantContent(t, m.CrashClone(strict), dir+"/seg", []byte("data"))
}

func TestCrashRollsBackUnsyncedRename(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "a", []byte("A"))
	mustRename(t, m, dir+"/a", dir+"/b")

	c := m.CrashClone(strict)
	wantContent(t, c, dir+"/a", []byte("A"))
	wantMissing(t, c, dir+"/b")

	mustSyncDir(t, m, dir)
	c = m.CrashClone(strict)
	wantMissing(t, c, dir+"/a")
	wantContent(t, c, dir+"/b", []byte("A")) // synced content follows the inode
}

func TestCrashCheckpointReplacement(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "ckpt", []byte("old"))
	f, err := m.Create(dir + "/ckpt.tmp")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("new"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mustRename(t, m, dir+"/ckpt.tmp", dir+"/ckpt")
	wantContent(t, m.CrashClone(strict), dir+"/ckpt", []byte("old"))
	mustSyncDir(t, m, dir)
	c := m.CrashClone(strict)
	wantContent(t, c, dir+"/ckpt", []byte("new"))
	wantMissing(t, c, dir+"/ckpt.tmp")
}

func TestCrashRestoresUnsyncedRemove(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "old", []byte("synced"))
	f, err := m.OpenReadWrite(dir + "/old")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("+unsynced"))
	if err := m.Remove(dir + "/old"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, m, dir+"/old")
	wantContent(t, m.CrashClone(strict), dir+"/old", []byte("synced"))

	mustSyncDir(t, m, dir)
	wantMissing(t, m.CrashClone(strict), dir+"/old")
	// The handle still owns the unlinked inode.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCrashRemoveAllNeedsSyncedDirectories(t *testing.T) {
	m, dir := newMemWithDir(t)
	mustMkdirAll(t, m, dir+"/topic-0")
	mustSyncDir(t, m, dir)
	writeSynced(t, m, dir+"/topic-0", "seg", []byte("s"))
	if err := m.RemoveAll(dir + "/topic-0"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, m.CrashClone(strict), dir+"/topic-0/seg", []byte("s"))
	mustSyncDir(t, m, dir)
	wantMissing(t, m.CrashClone(strict), dir+"/topic-0")
}

func TestCrashMkdirAllDurableAfterParentSync(t *testing.T) {
	m := NewMem()
	mustMkdirAll(t, m, "data/t-0")
	writeSynced(t, m, "data/t-0", "seg", []byte("s"))
	wantMissing(t, m.CrashClone(strict), "data")

	mustSyncDir(t, m, "/")
	c := m.CrashClone(strict)
	if names, err := c.List("data"); err != nil || len(names) != 0 {
		t.Fatalf("after syncing only the root, data lists %v, %v; want empty", names, err)
	}
	mustSyncDir(t, m, "data")
	wantContent(t, m.CrashClone(strict), "data/t-0/seg", []byte("s"))
}

func TestCrashRenameBetweenDirectories(t *testing.T) {
	m, dir := newMemWithDir(t)
	mustMkdirAll(t, m, dir+"/d1")
	mustMkdirAll(t, m, dir+"/d2")
	mustSyncDir(t, m, dir)
	writeSynced(t, m, dir+"/d1", "f", []byte("F"))
	mustRename(t, m, dir+"/d1/f", dir+"/d2/f")

	c := m.CrashClone(strict)
	wantContent(t, c, dir+"/d1/f", []byte("F"))
	wantMissing(t, c, dir+"/d2/f")

	mustSyncDir(t, m, dir+"/d1")
	mustSyncDir(t, m, dir+"/d2")
	c = m.CrashClone(strict)
	wantMissing(t, c, dir+"/d1/f")
	wantContent(t, c, dir+"/d2/f", []byte("F"))
}

func TestCrashCloneIsIndependent(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "f", []byte("v1"))
	lock, err := m.Lock(dir + "/LOCK")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	mustSyncDir(t, m, dir)

	c := m.CrashClone(strict)
	cl, err := c.Lock(dir + "/LOCK")
	if err != nil {
		t.Fatalf("locks must not survive a crash: %v", err)
	}
	defer cl.Close()

	writeSynced(t, c, dir, "f", []byte("clone"))
	writeSynced(t, m, dir, "g", []byte("orig"))
	wantContent(t, m, dir+"/f", []byte("v1"))
	wantMissing(t, c, dir+"/g")
	wantContent(t, c, dir+"/f", []byte("clone"))
	// The clone's own synced state is what it holds: a second crash keeps it.
	wantContent(t, c.CrashClone(strict), dir+"/f", []byte("clone"))
}

func TestMemString(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "gone", nil)
	if err := m.Remove(dir + "/gone"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, dir+"/new", []byte("abc"))
	s := m.String()
	for _, want := range []string{
		"db/\n",
		"gone  [removed; back after a crash]",
		"new  3 bytes, 0 synced  [entry not synced]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
}

// appendedFile makes a durable file holding synced, then appends tail
// without syncing.
func appendedFile(t *testing.T, synced, tail []byte) (*MemFS, string) {
	t.Helper()
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "seg", synced)
	f, err := m.OpenReadWrite(dir + "/seg")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, tail)
	return m, dir + "/seg"
}

func TestCrashPartialSurvivalOfAppends(t *testing.T) {
	synced := []byte("synced-batch|")
	tail := bytes.Repeat([]byte("appended-batch|"), 20)
	current := append(slices.Clone(synced), tail...)
	m, name := appendedFile(t, synced, tail)

	var none, all, prefix, torn int
	for seed := range uint64(300) {
		c := m.CrashClone(CrashOptions{Rand: rand.New(rand.NewPCG(seed, 1))})
		got := readFile(t, c, name)
		if !bytes.HasPrefix(got, synced) || len(got) > len(current) {
			t.Fatalf("seed %d: %d bytes %q: must start with the synced bytes and not outgrow the file", seed, len(got), got)
		}
		switch same := commonPrefix(got, current); {
		case len(got) == len(synced):
			none++
		case len(got) == len(current) && same == len(current):
			all++
		case same == len(got):
			prefix++
		default: // a prefix of the appended bytes, then the torn part
			torn++
		}
	}
	if none == 0 || all == 0 || prefix == 0 || torn == 0 {
		t.Fatalf("outcomes: %d synced only, %d all, %d prefix, %d torn; want each at least once", none, all, prefix, torn)
	}
}

func TestCrashPartialOverwriteStaysInWrittenSpan(t *testing.T) {
	synced := bytes.Repeat([]byte{'s'}, 100)
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "f", synced)
	f, err := m.OpenReadWrite(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, bytes.Repeat([]byte{'w'}, 10), 40)
	for seed := range uint64(100) {
		got := readFile(t, m.CrashClone(CrashOptions{Rand: rand.New(rand.NewPCG(seed, 2))}), dir+"/f")
		if len(got) != 100 || !bytes.Equal(got[:40], synced[:40]) || !bytes.Equal(got[50:], synced[50:]) {
			t.Fatalf("seed %d: crash changed bytes outside the unsynced write: %q", seed, got)
		}
	}
}

func TestCrashWithSameSeedIsReproducible(t *testing.T) {
	m, name := appendedFile(t, []byte("s"), bytes.Repeat([]byte("t"), 500))
	for i := range 5 {
		writeFile(t, m, name+string(rune('a'+i)), []byte("x"))
	}
	crash := func() string {
		opts := CrashOptions{Rand: rand.New(rand.NewPCG(7, 7)), KeepUnsyncedProb: 0.5}
		c := m.CrashClone(opts)
		return c.String() + string(readFile(t, c, name))
	}
	if a, b := crash(), crash(); a != b {
		t.Fatalf("two crashes with one seed differ:\n%s\n---\n%s", a, b)
	}
}

func TestCrashKeepUnsyncedProbability(t *testing.T) {
	m, dir := newMemWithDir(t)
	writeSynced(t, m, dir, "removed", []byte("r"))
	writeSynced(t, m, dir, "renamed", []byte("n"))
	writeFile(t, m, dir+"/created", nil)
	if err := m.Remove(dir + "/removed"); err != nil {
		t.Fatal(err)
	}
	mustRename(t, m, dir+"/renamed", dir+"/moved")
	rnd := rand.New(rand.NewPCG(3, 3))

	names := func(c *MemFS) []string {
		t.Helper()
		l, err := c.List(dir)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if got := names(m.CrashClone(CrashOptions{Rand: rnd, KeepUnsyncedProb: 1})); !slices.Equal(got, []string{"created", "moved"}) {
		t.Fatalf("KeepUnsyncedProb 1 lists %v, want every change kept", got)
	}
	if got := names(m.CrashClone(CrashOptions{Rand: rnd, KeepUnsyncedProb: 0})); !slices.Equal(got, []string{"removed", "renamed"}) {
		t.Fatalf("KeepUnsyncedProb 0 lists %v, want only synced entries", got)
	}

	seen := map[string]int{}
	for range 200 {
		got := names(m.CrashClone(CrashOptions{Rand: rnd, KeepUnsyncedProb: 0.5}))
		hasOld, hasNew := slices.Contains(got, "renamed"), slices.Contains(got, "moved")
		if hasOld == hasNew {
			t.Fatalf("rename not atomic across the crash: %v", got)
		}
		seen[strings.Join(got, ",")]++
	}
	// 3 independent changes: created, removed, and the rename.
	if len(seen) != 8 {
		t.Fatalf("saw %d of the 8 combinations of surviving changes: %v", len(seen), seen)
	}
}

func TestCrashCloneKeepsDirectoriesATree(t *testing.T) {
	// Moving directories around with some syncs skipped leaves synced
	// snapshots that list a directory twice, here in a loop: root lists a,
	// a lists b (synced before the moves), b lists a (synced after).
	m := NewMem()
	mustMkdirAll(t, m, "a/b")
	mustSyncDir(t, m, "/")
	mustSyncDir(t, m, "a")
	mustRename(t, m, "a/b", "b")
	mustRename(t, m, "a", "b/a")
	mustSyncDir(t, m, "b")
	c := m.CrashClone(strict)
	if names, err := c.List("a"); err != nil || !slices.Equal(names, []string{"b"}) {
		t.Fatalf("a lists %v, %v; want [b]", names, err)
	}
	if names, err := c.List("a/b"); err != nil || len(names) != 0 {
		t.Fatalf("a/b lists %v, %v; want nothing: the loop back to a must be cut", names, err)
	}
	if err := c.RemoveAll("a"); err != nil {
		t.Fatal(err)
	}
	if names, err := c.List("/"); err != nil || len(names) != 0 {
		t.Fatalf("root lists %v, %v after RemoveAll", names, err)
	}
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}
