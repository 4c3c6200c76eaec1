package partition_test

import (
	"testing"

	"github.com/eddy-streams/eddy/internal/partition"
)

func BenchmarkForKey16(b *testing.B) {
	key := []byte("user-0000000042!")
	b.SetBytes(int64(len(key)))
	var sink int32
	for b.Loop() {
		sink += partition.ForKey(key, 12)
	}
	if sink < 0 {
		b.Fatal("negative partition")
	}
}
