package scaleout

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/dsl"
	"github.com/eddy-streams/eddy/serde"
)

// backlogPerPartition records, each with a key of its own, are in every
// input partition before the instances start: the counts' changelog then
// holds as many records, which is what a failover without a standby
// replays.
const backlogPerPartition = 15000

// backlogKeyBytes pads the backlog's keys, so that a restore from scratch
// has megabytes to replay, as real state does.
const backlogKeyBytes = 600

// failover is what one scenario measured.
type failover struct {
	standbys int
	moved    []int32
	// took is from the SIGKILL until every moved partition's committed
	// offset passed where it was at the kill.
	took time.Duration
	// restored is how many changelog records the survivors replayed for
	// the moved tasks; fromPosition how many of them started from a
	// position (a standby's or a checkpoint) rather than from scratch.
	restored     int64
	fromPosition int
	// detect is from the kill to the survivors' new assignment; restore
	// from then until the last moved task started.
	detect, restore time.Duration
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestScaleOutAndFailover runs the counting app as separate processes over
// the Kafka protocol, twice: without a standby replica and with one. Three
// instances split twelve tasks; a fourth joins and takes its share while
// the tasks that stay keep committing; one instance is killed with
// SIGKILL and the others take its tasks over. Counts are checked against
// the input: exact for partitions the killed instance did not run, and
// for its partitions exact up to its last commit with at most a replay of
// the records after it.
func TestScaleOutAndFailover(t *testing.T) {
	var results []failover
	for _, standbys := range []int{0, 1} {
		t.Run(fmt.Sprintf("standbys=%d", standbys), func(t *testing.T) {
			results = append(results, scenario(t, standbys))
		})
	}
	if t.Failed() || len(results) != 2 {
		return
	}
	cold, warm := results[0], results[1]
	for _, r := range results {
		t.Logf("standbys=%d: the killed instance's tasks ran again %v after the kill (reassigned after %v, restored in %v; %d changelog records replayed, %d of %d tasks from a standby's position); committed past the kill after %v",
			r.standbys, (r.detect + r.restore).Round(time.Millisecond), r.detect.Round(time.Millisecond), r.restore.Round(time.Millisecond),
			r.restored, r.fromPosition, len(r.moved), r.took.Round(time.Millisecond))
	}
	if warm.fromPosition != len(warm.moved) || warm.restored*10 > cold.restored {
		t.Errorf("standbys did not spare the restore: %d records replayed with them, %d without", warm.restored, cold.restored)
	}
	// The assertion is on the time until the moved tasks run again: the
	// first commit after that comes up to a commit interval later either
	// way.
	if warm.detect+warm.restore >= cold.detect+cold.restore {
		t.Errorf("the moved tasks ran again %v after the kill with a standby, %v without", warm.detect+warm.restore, cold.detect+cold.restore)
	}
}

func scenario(t *testing.T, standbys int) failover {
	b, addr := startBroker(t)
	client := b.Embedded()
	in := &input{}
	in.backlog(t, client, backlogPerPartition)
	backlogEnds := in.ends()
	ctx, stopProducing := context.WithCancel(context.Background())
	defer stopProducing()
	produced := make(chan error, 1)
	go func() { produced <- in.produce(ctx, client, 10, 50*time.Millisecond) }()

	a := startChild(t, addr, "a", standbys)
	bb := startChild(t, addr, "b", standbys)
	c := startChild(t, addr, "c", standbys)
	three := settled(t, a, bb, c)
	for ch, g := range three {
		if len(g.active) != 4 || len(g.standby) != 4*standbys {
			t.Fatalf("%s: %d active and %d standby tasks, want 4 and %d", ch.name, len(g.active), len(g.standby), 4*standbys)
		}
	}
	waitCommitted(t, client, backlogEnds)

	// A fourth instance joins: the others keep their other tasks running.
	s := startSampler(t, client)
	d := startChild(t, addr, "d", standbys)
	four := settled(t, a, bb, c, d)
	d.mu.Lock()
	dReady := d.ready
	d.mu.Unlock()
	var unaffected []int32
	for _, ch := range []*child{a, bb, c} {
		for _, p := range four[ch].active {
			if containsPartition(three[ch].active, p) {
				unaffected = append(unaffected, p)
			}
		}
	}
	if len(four[d].active) != 3 || len(unaffected) != 9 {
		t.Fatalf("after d joined: d runs %v, %d tasks stayed put", four[d].active, len(unaffected))
	}
	before, after := s.at(d.started), s.at(dReady)
	for _, p := range unaffected {
		if after[p] <= before[p] {
			t.Errorf("partition %d (not moved) committed nothing while d joined: %d then %d", p, before[p], after[p])
		}
	}
	t.Logf("d joined and started %v in %v; meanwhile the 9 tasks that stayed committed on: %v → %v",
		four[d].active, dReady.Sub(d.started).Round(time.Millisecond), pick(before, unaffected), pick(after, unaffected))
	s.stop()

	// Kill a: its tasks move to the others.
	time.Sleep(300 * time.Millisecond)
	moved := four[a].active
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-a.exited
	atKill := committed(t, client)
	resumed := waitPast(t, client, moved, atKill)
	res := failover{standbys: standbys, moved: moved, took: resumed.Sub(killed)}
	survivors := settled(t, bb, c, d)
	var reassigned, started time.Time // when the survivors got a's tasks, and had them all running
	for _, ch := range []*child{bb, c, d} {
		if g := survivors[ch]; reassigned.IsZero() || g.at.Before(reassigned) {
			reassigned = g.at
		}
		for _, o := range ch.openedSince(killed) {
			started = later(started, o.at)
			if !containsPartition(moved, o.partition) {
				t.Errorf("%s started partition %d, which the killed instance did not run", ch.name, o.partition)
				continue
			}
			res.restored += o.records
			if o.from >= 0 {
				res.fromPosition++
			}
		}
	}
	res.detect, res.restore = reassigned.Sub(killed), started.Sub(reassigned)
	t.Logf("killed a (tasks %v, committed %v): processing resumed after %v (new assignment after %v, tasks restored %v later); %d changelog records replayed; now %v",
		moved, pick(atKill, moved), res.took.Round(time.Millisecond), res.detect.Round(time.Millisecond), res.restore.Round(time.Millisecond), res.restored, describe(survivors))

	stopProducing()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, client, in.ends())
	for _, ch := range []*child{bb, c, d} {
		ch.terminate(t)
	}
	checkCounts(t, client, in, moved, atKill)
	return res
}

func pick(offs [inputParts]int64, ps []int32) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = offs[p]
	}
	return out
}

func describe(gens map[*child]generation) string {
	var out []string
	for ch, g := range gens {
		out = append(out, fmt.Sprintf("%s runs %v (standby %v)", ch.name, g.active, g.standby))
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// committed returns the group's committed offset of every input partition
// (0 where none is).
func committed(t *testing.T, c broker.Client) [inputParts]int64 {
	t.Helper()
	var tps []broker.TopicPartition
	for p := range int32(inputParts) {
		tps = append(tps, broker.TopicPartition{Topic: inputTopic, Partition: p})
	}
	offs, err := c.CommittedOffsets(context.Background(), appID, tps)
	if err != nil {
		t.Fatal(err)
	}
	var out [inputParts]int64
	for _, o := range offs {
		out[o.Partition] = max(o.Offset, 0)
	}
	return out
}

func waitCommitted(t *testing.T, c broker.Client, ends [inputParts]int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		offs := committed(t, c)
		done := true
		for p := range offs {
			done = done && offs[p] >= ends[p]
		}
		if done {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the group did not commit up to %v (at %v)", ends, committed(t, c))
}

// waitPast waits until every partition of ps has a committed offset past
// from, and returns when that happened.
func waitPast(t *testing.T, c broker.Client, ps []int32, from [inputParts]int64) time.Time {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		offs := committed(t, c)
		done := true
		for _, p := range ps {
			done = done && offs[p] > from[p]
		}
		if done {
			return time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("partitions %v committed nothing past %v", ps, pick(from, ps))
	return time.Time{}
}

// sampler records the committed offsets every few milliseconds.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	done    chan struct{}
	cancel  context.CancelFunc
}

type sample struct {
	at   time.Time
	offs [inputParts]int64
}

func startSampler(t *testing.T, c broker.Client) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(s.done)
		for ctx.Err() == nil {
			offs := committed(t, c)
			s.mu.Lock()
			s.samples = append(s.samples, sample{at: time.Now(), offs: offs})
			s.mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return s
}

func (s *sampler) stop() { s.cancel(); <-s.done }

// at returns the last sample taken at or before when (the first if none).
func (s *sampler) at(when time.Time) [inputParts]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.samples[0].offs
	for _, x := range s.samples {
		if x.at.After(when) {
			break
		}
		out = x.offs
	}
	return out
}

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
