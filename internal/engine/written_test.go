package engine

import (
	"context"
	"errors"
	"testing"
)

// TestCommitAwaitsWrittenInputs: before offsets are committed, every input
// read before its records were durable is awaited durable up to the
// position to commit, and a failed fsync stops the commit; other inputs
// are not awaited.
func TestCommitAwaitsWrittenInputs(t *testing.T) {
	c := &deferredClient{next: map[int32]int64{}, awaited: map[int32]int64{}}
	moved := []*input{
		{topic: "app-rekey-repartition", partition: 0, next: 40, written: true},
		{topic: "source", partition: 1, next: 7},
		{topic: "app-rekey-repartition", partition: 2, next: 12, written: true},
	}
	if err := awaitWritten(context.Background(), c, moved); err != nil {
		t.Fatal(err)
	}
	if len(c.awaited) != 2 || c.awaited[0] != 40 || c.awaited[2] != 12 {
		t.Fatalf("awaited %v, want partition 0 up to 40 and 2 up to 12 only", c.awaited)
	}
	c.failAwait = errors.New("fsync failed")
	if err := awaitWritten(context.Background(), c, moved); !errors.Is(err, c.failAwait) {
		t.Fatalf("awaitWritten with a failing fsync = %v", err)
	}
}
