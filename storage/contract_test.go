package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestContract runs the Store contract against every store.
func TestContract(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"GetPutDeleteOverwrite", contractGetPutDelete},
		{"EmptyValueIsNotMissing", contractEmptyValue},
		{"PutAndGetCopy", contractCopies},
		{"BinaryKeysOrder", contractBinaryKeys},
		{"RangeBounds", contractRangeBounds},
		{"ApplyInOrder", contractApply},
		{"IteratorIsSnapshot", contractSnapshot},
		{"IteratorAfterClose", contractIteratorClose},
		{"LargeValues", contractLargeValues},
		{"FlushKeepsData", contractFlush},
		{"ClosedStore", contractClosed},
	}
	for _, f := range factories() {
		t.Run(f.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, f.open(t)) })
			}
		})
	}
}

func contractGetPutDelete(t *testing.T, s Store) {
	if _, ok := mustGet(t, s, "a"); ok {
		t.Fatal("fresh store has key a")
	}
	mustPut(t, s, "a", "1")
	mustPut(t, s, "b", "2")
	if v, ok := mustGet(t, s, "a"); !ok || v != "1" {
		t.Fatalf("Get(a) = %q, %v; want 1", v, ok)
	}
	mustPut(t, s, "a", "one")
	if v, _ := mustGet(t, s, "a"); v != "one" {
		t.Fatalf("after overwrite Get(a) = %q, want one", v)
	}
	if err := s.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, ok := mustGet(t, s, "a"); ok {
		t.Fatal("a present after Delete")
	}
	if err := s.Delete([]byte("never-written")); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	mustPut(t, s, "a", "again")
	if got := scan(t, s, nil, nil); !equalKVs(got, []kv{{"a", "again"}, {"b", "2"}}) {
		t.Fatalf("scan = %v", got)
	}
}

func contractEmptyValue(t *testing.T, s Store) {
	if err := s.Put([]byte("nil"), nil); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "empty", "")
	for _, k := range []string{"nil", "empty"} {
		v, ok := mustGet(t, s, k)
		if !ok || v != "" {
			t.Fatalf("Get(%q) = %q, %v; want present and empty", k, v, ok)
		}
	}
	if _, ok := mustGet(t, s, "missing"); ok {
		t.Fatal("missing key reported present")
	}
	if got := scan(t, s, nil, nil); !equalKVs(got, []kv{{"empty", ""}, {"nil", ""}}) {
		t.Fatalf("scan = %v; empty values must be listed", got)
	}
}

func contractCopies(t *testing.T, s Store) {
	k, v := []byte("key"), []byte("value")
	if err := s.Put(k, v); err != nil {
		t.Fatal(err)
	}
	k[0], v[0] = 'X', 'X' // the caller reuses its buffers
	if got, ok := mustGet(t, s, "key"); !ok || got != "value" {
		t.Fatalf("Get after caller reused buffers = %q, %v", got, ok)
	}
	got, _, err := s.Get([]byte("key"))
	if err != nil {
		t.Fatal(err)
	}
	got[0] = 'Y' // the returned value is the caller's
	if again, _ := mustGet(t, s, "key"); again != "value" {
		t.Fatalf("store changed through a returned value: %q", again)
	}
	ms := []Mutation{{Key: []byte("m"), Value: []byte("mv")}}
	if err := s.Apply(ms); err != nil {
		t.Fatal(err)
	}
	ms[0].Key[0], ms[0].Value[0] = 'Z', 'Z'
	if got, ok := mustGet(t, s, "m"); !ok || got != "mv" {
		t.Fatalf("Get after caller reused Apply buffers = %q, %v", got, ok)
	}
}

func contractBinaryKeys(t *testing.T, s Store) {
	keys := [][]byte{
		{}, {0x00}, {0x00, 0x00}, {0x00, 0xFF}, {0x01}, {0x7F}, {0x80},
		{0xFF}, {0xFF, 0x00}, {0xFF, 0xFF}, {0xFF, 0xFF, 0xFF},
	}
	shuffled := slices.Clone(keys)
	slices.Reverse(shuffled)
	for i, k := range shuffled {
		if err := s.Put(k, []byte{byte(i), 0x00, 0xFF}); err != nil {
			t.Fatal(err)
		}
	}
	var want []kv
	for _, k := range keys {
		i := slices.IndexFunc(shuffled, func(x []byte) bool { return bytes.Equal(x, k) })
		want = append(want, kv{string(k), string([]byte{byte(i), 0x00, 0xFF})})
	}
	if got := scan(t, s, nil, nil); !equalKVs(got, want) {
		t.Fatalf("scan order:\n got %q\nwant %q", got, want)
	}
	if got := reverseScan(t, s, nil, nil); !equalKVs(got, reversed(want)) {
		t.Fatalf("reverse scan order:\n got %q\nwant %q", got, reversed(want))
	}
	// [0x00, 0xFF) excludes the empty key and everything from 0xFF on.
	if got := scan(t, s, []byte{0x00}, []byte{0xFF}); !equalKVs(got, want[1:7]) {
		t.Fatalf("scan [00, FF) = %q, want %q", got, want[1:7])
	}
	if got := reverseScan(t, s, []byte{0x00, 0xFF}, []byte{0xFF, 0x00}); !equalKVs(got, reversed(want[3:8])) {
		t.Fatalf("reverse scan [00FF, FF00) = %q, want %q", got, reversed(want[3:8]))
	}
	for _, k := range keys {
		if _, ok, err := s.Get(k); err != nil || !ok {
			t.Fatalf("Get(%x) = %v, %v", k, ok, err)
		}
	}
}

func contractRangeBounds(t *testing.T, s Store) {
	for c := 'a'; c <= 'j'; c++ {
		mustPut(t, s, string(c), string(c-'a'+'0'))
	}
	all := scan(t, s, nil, nil)
	if len(all) != 10 {
		t.Fatalf("full scan has %d keys, want 10", len(all))
	}
	b := func(s string) []byte { return []byte(s) }
	cases := []struct {
		start, end []byte
		want       []kv
	}{
		{nil, nil, all},
		{b("c"), b("f"), all[2:5]},
		{b("c"), nil, all[2:]},
		{nil, b("c"), all[:2]},
		{b("cc"), b("e"), all[3:4]},
		{b(""), nil, all},
		{b("a"), b("j\x00"), all},
		{b("f"), b("c"), nil},
		{b("c"), b("c"), nil},
		{nil, b(""), nil},
		{b("z"), nil, nil},
		{nil, b("a"), nil},
	}
	for _, c := range cases {
		if got := scan(t, s, c.start, c.end); !equalKVs(got, c.want) {
			t.Errorf("Range(%q, %q) = %v, want %v", c.start, c.end, got, c.want)
		}
		if got := reverseScan(t, s, c.start, c.end); !equalKVs(got, reversed(c.want)) {
			t.Errorf("ReverseRange(%q, %q) = %v, want %v", c.start, c.end, got, reversed(c.want))
		}
	}
}

func contractApply(t *testing.T, s Store) {
	mustPut(t, s, "gone", "x")
	mustPut(t, s, "kept", "x")
	batch := []Mutation{
		{Key: []byte("a"), Value: []byte("1")},
		{Key: []byte("a"), Value: []byte("2")}, // later mutation wins
		{Key: []byte("gone"), Delete: true},
		{Key: []byte("back"), Value: []byte("1")},
		{Key: []byte("back"), Delete: true},
		{Key: []byte("back"), Value: []byte("3"), Delete: false},
		{Key: []byte("temp"), Value: []byte("1")},
		{Key: []byte("temp"), Value: []byte("ignored"), Delete: true},
		{Key: []byte("nothing"), Delete: true},
	}
	if err := s.Apply(batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(nil); err != nil {
		t.Fatalf("empty Apply: %v", err)
	}
	want := []kv{{"a", "2"}, {"back", "3"}, {"kept", "x"}}
	if got := scan(t, s, nil, nil); !equalKVs(got, want) {
		t.Fatalf("after Apply scan = %v, want %v", got, want)
	}
}

func contractSnapshot(t *testing.T, s Store) {
	for i := range 300 {
		mustPut(t, s, fmt.Sprintf("k%03d", i), "old")
	}
	it, err := s.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rit, err := s.(Reverser).ReverseRange(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Writes after the iterators were created, some of them while they run.
	mustPut(t, s, "k000a", "new key")
	if err := s.Delete([]byte("k299")); err != nil {
		t.Fatal(err)
	}
	n := 0
	for it.Next() {
		if n == 10 {
			mustPut(t, s, "k200", "new value")
			if err := s.Delete([]byte("k250")); err != nil {
				t.Fatal(err)
			}
		}
		if want := fmt.Sprintf("k%03d", n); string(it.Key()) != want || string(it.Value()) != "old" {
			t.Fatalf("entry %d = %q=%q, want %q=old", n, it.Key(), it.Value(), want)
		}
		n++
	}
	if it.Err() != nil || n != 300 {
		t.Fatalf("snapshot iterator saw %d entries (err %v), want 300", n, it.Err())
	}
	it.Close()
	if got := collect(t, rit); len(got) != 300 || got[0].k != "k299" || got[299].k != "k000" {
		t.Fatalf("reverse snapshot saw %d entries", len(got))
	}
	if v, _ := mustGet(t, s, "k200"); v != "new value" {
		t.Fatalf("write during iteration lost: %q", v)
	}
}

func contractIteratorClose(t *testing.T, s Store) {
	mustPut(t, s, "a", "1")
	mustPut(t, s, "b", "2")
	it, err := s.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !it.Next() {
		t.Fatal("no first entry")
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	if it.Next() {
		t.Fatal("Next after Close returned true")
	}
	if it.Key() != nil || it.Value() != nil {
		t.Fatalf("Key/Value after Close = %q/%q, want nil", it.Key(), it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// An iterator closed before use, and one drained to the end.
	it, _ = s.Range(nil, nil)
	it.Close()
	if it.Next() {
		t.Fatal("Next on iterator closed before use returned true")
	}
	it, _ = s.Range(nil, nil)
	for it.Next() {
	}
	if it.Next() || it.Err() != nil {
		t.Fatalf("Next past the end: err %v", it.Err())
	}
	it.Close()
}

func contractLargeValues(t *testing.T, s Store) {
	big := bytes.Repeat([]byte{0xAB, 0x00, 0xFF}, 400_000)
	if err := s.Put([]byte("big"), big); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "small", "s")
	got, ok, err := s.Get([]byte("big"))
	if err != nil || !ok || !bytes.Equal(got, big) {
		t.Fatalf("big value round trip: ok %v err %v len %d", ok, err, len(got))
	}
	if kvs := scan(t, s, nil, nil); len(kvs) != 2 || kvs[0].v != string(big) {
		t.Fatalf("scan of big value failed: %d entries", len(kvs))
	}
}

func contractFlush(t *testing.T, s Store) {
	mustPut(t, s, "a", "1")
	if err := s.Delete([]byte("a")); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "b", "2")
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if got := scan(t, s, nil, nil); !equalKVs(got, []kv{{"b", "2"}}) {
		t.Fatalf("after Flush scan = %v", got)
	}
}

func contractClosed(t *testing.T, s Store) {
	mustPut(t, s, "a", "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	checks := map[string]error{
		"Put":    s.Put([]byte("a"), nil),
		"Delete": s.Delete([]byte("a")),
		"Apply":  s.Apply([]Mutation{{Key: []byte("a")}}),
		"Flush":  s.Flush(),
	}
	_, _, checks["Get"] = s.Get([]byte("a"))
	_, checks["Range"] = s.Range(nil, nil)
	_, checks["ReverseRange"] = s.(Reverser).ReverseRange(nil, nil)
	for op, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}
