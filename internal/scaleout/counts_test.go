package scaleout

import (
	"context"
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
)

// checkCounts folds the counts' changelog and compares every key's count
// with the input. Partitions the killed instance did not run must be
// exact: every rebalance among live instances commits before tasks move.
// A killed instance's partition p may count more, but only as a replay:
// the excess must be exactly the records from its committed offset at
// the kill up to some offset (what it had flushed to the changelog
// without committing).
func checkCounts(t *testing.T, c broker.Client, in *input, killed []int32, atKill [inputParts]int64) {
	t.Helper()
	for p := range int32(inputParts) {
		truth := map[string]int64{}
		for _, k := range in.keys[p] {
			truth[k]++
		}
		final := foldCounts(t, c, p)
		excess := map[string]int64{}
		for k, n := range truth {
			switch got := final[k]; {
			case got < n:
				t.Fatalf("partition %d key %s: counted %d, input has %d: records lost", p, k, got, n)
			case got > n:
				excess[k] = got - n
			}
		}
		for k := range final {
			if _, ok := truth[k]; !ok {
				t.Fatalf("partition %d: key %s counted but never written", p, k)
			}
		}
		if !containsPartition(killed, p) {
			if len(excess) > 0 {
				t.Fatalf("partition %d (never on the killed instance): %d keys over-counted", p, len(excess))
			}
			continue
		}
		from := atKill[p]
		upTo, ok := replayedPrefix(in.keys[p][from:], excess)
		if !ok {
			t.Fatalf("partition %d: the excess counts of %d keys are not a replay of records from offset %d", p, len(excess), from)
		}
		if upTo == 0 {
			t.Logf("partition %d (killed instance's): exact; its owner committed up to %d before the kill", p, from)
		} else {
			t.Logf("partition %d (killed instance's): exact up to offset %d; records %d to %d counted twice (flushed, not committed, at the kill)", p, from, from, from+int64(upTo)-1)
		}
	}
}

// replayedPrefix finds n such that the keys of records[:n] occur exactly
// as often as excess says.
func replayedPrefix(records []string, excess map[string]int64) (int, bool) {
	diff := map[string]int64{}
	for k, n := range excess {
		diff[k] = n
	}
	nonzero := len(diff)
	for n := 0; ; n++ {
		if nonzero == 0 {
			return n, true
		}
		if n == len(records) {
			return 0, false
		}
		k := records[n]
		if diff[k] == 0 {
			return 0, false // a record in the prefix that was not counted twice
		}
		diff[k]--
		if diff[k] == 0 {
			nonzero--
		}
	}
}

// foldCounts reads partition p of the counts' changelog: the final count
// of every key.
func foldCounts(t *testing.T, c broker.Client, p int32) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for off := int64(0); ; {
		res, err := c.Fetch(context.Background(), changelog, p, off, 4<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return out
		}
		for data := res.Batches; len(data) > 0; {
			one, rest, err := batch.Next(data)
			if err != nil {
				t.Fatal(err)
			}
			it, err := batch.NewIterator(one)
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				r := it.Record()
				if r.Offset < off {
					continue
				}
				if r.Value == nil {
					delete(out, string(r.Key))
					continue
				}
				_, v, err := dsl.DecodeTimestamped(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				n, err := serde.Int64.Deserialize(changelog, v)
				if err != nil {
					t.Fatal(err)
				}
				out[string(r.Key)] = n
			}
			off = it.Header().LastOffset() + 1
			data = rest
		}
	}
}
