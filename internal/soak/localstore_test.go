package soak

import (
	"testing"

	"github.com/eddy-streams/eddy/storage"
)

func readLocalStore(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := storage.OpenLevelDB(dir, storage.LevelDBOptions{})
	if err != nil {
		t.Fatalf("open local store %s: %v", dir, err)
	}
	defer db.Close()
	it, err := db.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	out := map[string]string{}
	for it.Next() {
		out[string(it.Key())] = string(it.Value())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
