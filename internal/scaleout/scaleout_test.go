package scaleout

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"
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
	// The assertion is on the restore, the part of the time until the
	// moved tasks run again that standbys can spare: noticing the dead
	// instance takes about a second either way and varies by more than
	// the difference, and the first commit after comes up to a commit
	// interval later either way.
	if warm.restore >= cold.restore {
		t.Errorf("the moved tasks were restored in %v with a standby, %v without (ran again %v and %v after the kill)",
			warm.restore, cold.restore, warm.detect+warm.restore, cold.detect+cold.restore)
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
	backlogFrom := time.Now()
	waitCommitted(t, client, backlogEnds)
	t.Logf("the backlog was committed %v after the three instances settled", time.Since(backlogFrom).Round(time.Millisecond))

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
	// d's standbys start once its own tasks run, and restore their tasks'
	// whole changelogs: until they are done, a task of a's with its copy
	// on d has no warm standby, which is not what the comparison is
	// about. Under the race detector that restore takes seconds.
	if standbys > 0 {
		t.Logf("the standbys were warm %v after the instances settled", standbysWarm(t, four).Round(time.Millisecond))
	}

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
