package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/eddy-streams/eddy/internal/topology"
)

func taskRange(subs int, parts int32) []topology.TaskID {
	var ids []topology.TaskID
	for s := range subs {
		for p := range parts {
			ids = append(ids, topology.TaskID{Subtopology: s, Partition: p})
		}
	}
	return ids
}

func allStateful(topology.TaskID) bool { return true }

// checkAssignment checks the invariants every assignment keeps: each task
// active exactly once, loads within one of each other, standbys never on
// the owner nor twice on a member, exactly min(standbys, members-1) per
// stateful task and none for stateless ones, and the instance list the
// same for every member and matching the members' own tasks.
func checkAssignment(t *testing.T, tasks []topology.TaskID, stateful func(topology.TaskID) bool, members []assignMember, standbys int, out map[string]memberAssignment) {
	t.Helper()
	if len(out) != len(members) {
		t.Fatalf("%d assignments for %d members", len(out), len(members))
	}
	owner := map[topology.TaskID]string{}
	standbyCount := map[topology.TaskID]int{}
	minLoad, maxLoad := len(tasks)+1, -1
	var first []Instance
	for _, m := range members {
		a, ok := out[m.ID]
		if !ok {
			t.Fatalf("no assignment for %s", m.ID)
		}
		if first == nil {
			first = a.Instances
		} else if fmt.Sprint(first) != fmt.Sprint(a.Instances) {
			t.Fatalf("members see different instance lists:\n%v\n%v", first, a.Instances)
		}
		for _, id := range a.Active {
			if prev, dup := owner[id]; dup {
				t.Fatalf("task %s active on %s and %s", id, prev, m.ID)
			}
			owner[id] = m.ID
		}
		minLoad, maxLoad = min(minLoad, len(a.Active)), max(maxLoad, len(a.Active))
		seen := map[topology.TaskID]bool{}
		for _, id := range a.Standby {
			if seen[id] {
				t.Fatalf("task %s standby twice on %s", id, m.ID)
			}
			seen[id] = true
			standbyCount[id]++
			if !stateful(id) {
				t.Fatalf("stateless task %s has a standby on %s", id, m.ID)
			}
		}
		found := false
		for _, in := range a.Instances {
			if in.ProcessID == m.Sub.ProcessID {
				found = true
				if !slices.Equal(in.Active, a.Active) || !slices.Equal(in.Standby, a.Standby) {
					t.Fatalf("instance list disagrees with %s's own tasks", m.ID)
				}
				if in.Endpoint != m.Sub.Endpoint {
					t.Fatalf("%s's endpoint %q listed as %q", m.ID, m.Sub.Endpoint, in.Endpoint)
				}
			}
		}
		if !found {
			t.Fatalf("%s missing from the instance list", m.ID)
		}
	}
	for _, m := range members {
		for _, id := range out[m.ID].Standby {
			if owner[id] == m.ID {
				t.Fatalf("task %s is active and standby on %s", id, m.ID)
			}
		}
	}
	if len(owner) != len(tasks) {
		t.Fatalf("%d of %d tasks assigned", len(owner), len(tasks))
	}
	if maxLoad-minLoad > 1 {
		t.Fatalf("unbalanced: loads from %d to %d", minLoad, maxLoad)
	}
	want := min(standbys, len(members)-1)
	for _, id := range tasks {
		if stateful(id) && standbyCount[id] != want {
			t.Fatalf("task %s has %d standbys, want %d", id, standbyCount[id], want)
		}
	}
}

func members(names ...string) []assignMember {
	var ms []assignMember
	for _, n := range names {
		ms = append(ms, assignMember{ID: "member-" + n, Sub: subscription{ProcessID: "p-" + n, Endpoint: n + ":8080", Offsets: map[topology.TaskID]int64{}}})
	}
	return ms
}

// carryOver makes each member's subscription say what out gave it, as a
// member rejoining after that generation would.
func carryOver(ms []assignMember, out map[string]memberAssignment) {
	for i := range ms {
		a := out[ms[i].ID]
		ms[i].Sub.PrevActive, ms[i].Sub.PrevStandby = a.Active, a.Standby
		ms[i].Sub.Offsets = map[topology.TaskID]int64{}
		for _, id := range a.Active {
			ms[i].Sub.Offsets[id] = runningActiveOffset
		}
		for _, id := range a.Standby {
			ms[i].Sub.Offsets[id] = 1000
		}
	}
}

func TestAssignBalancedAndStable(t *testing.T) {
	tasks := taskRange(2, 12)
	ms := members("a", "b", "c")
	out := assignTasks(tasks, allStateful, ms, 1)
	checkAssignment(t, tasks, allStateful, ms, 1, out)
	for _, m := range ms {
		if n := len(out[m.ID].Active); n != 8 {
			t.Fatalf("%s has %d tasks, want 8", m.ID, n)
		}
	}
	// Each sub-topology is spread too, since tasks are dealt in order to
	// the least loaded.
	for _, m := range ms {
		sub0 := 0
		for _, id := range out[m.ID].Active {
			if id.Subtopology == 0 {
				sub0++
			}
		}
		if sub0 != 4 {
			t.Fatalf("%s has %d tasks of sub-topology 0, want 4: %v", m.ID, sub0, out[m.ID].Active)
		}
	}
	// The same members again: nothing moves.
	carryOver(ms, out)
	again := assignTasks(tasks, allStateful, ms, 1)
	for _, m := range ms {
		if !slices.Equal(again[m.ID].Active, out[m.ID].Active) || !slices.Equal(again[m.ID].Standby, out[m.ID].Standby) {
			t.Fatalf("%s: %v/%v became %v/%v", m.ID, out[m.ID].Active, out[m.ID].Standby, again[m.ID].Active, again[m.ID].Standby)
		}
	}
	// The order members arrive in does not matter.
	rev := slices.Clone(ms)
	slices.Reverse(rev)
	if fmt.Sprint(assignTasks(tasks, allStateful, rev, 1)) != fmt.Sprint(again) {
		t.Fatal("the assignment depends on the order of the members")
	}
}

func TestAssignNewMemberTakesOnlyItsShare(t *testing.T) {
	tasks := taskRange(1, 12)
	ms := members("a", "b", "c")
	out := assignTasks(tasks, allStateful, ms, 0)
	carryOver(ms, out)
	ms = append(ms, members("d")...)
	next := assignTasks(tasks, allStateful, ms, 0)
	checkAssignment(t, tasks, allStateful, ms, 0, next)
	moved := 0
	for _, m := range ms[:3] {
		kept := 0
		for _, id := range next[m.ID].Active {
			if slices.Contains(out[m.ID].Active, id) {
				kept++
			}
		}
		if kept != 3 || len(next[m.ID].Active) != 3 {
			t.Fatalf("%s kept %d of its tasks and has %d, want 3 and 3", m.ID, kept, len(next[m.ID].Active))
		}
		moved += 4 - kept
	}
	if moved != 3 || len(next["member-d"].Active) != 3 {
		t.Fatalf("%d tasks moved, d has %v", moved, next["member-d"].Active)
	}
}

func TestAssignFailoverPrefersStandby(t *testing.T) {
	tasks := taskRange(1, 12)
	// Three members, then a fourth: the standbys of each member's tasks
	// end up on distinct members even after the moves.
	ms := members("a", "b", "c")
	out := assignTasks(tasks, allStateful, ms, 1)
	checkAssignment(t, tasks, allStateful, ms, 1, out)
	carryOver(ms, out)
	ms = append(ms, members("d")...)
	out = assignTasks(tasks, allStateful, ms, 1)
	checkAssignment(t, tasks, allStateful, ms, 1, out)
	carryOver(ms, out)
	for _, owner := range ms {
		holders := map[string]bool{}
		for _, id := range out[owner.ID].Active {
			for _, m := range ms {
				if slices.Contains(out[m.ID].Standby, id) {
					holders[m.ID] = true
				}
			}
		}
		if len(holders) != len(out[owner.ID].Active) {
			t.Fatalf("the standbys of %s's tasks %v sit on %v only", owner.ID, out[owner.ID].Active, holders)
		}
	}
	dead := out["member-a"]
	next := assignTasks(tasks, allStateful, ms[1:], 1)
	checkAssignment(t, tasks, allStateful, ms[1:], 1, next)
	for _, id := range dead.Active {
		var standbyOn string
		for _, m := range ms[1:] {
			if slices.Contains(out[m.ID].Standby, id) {
				standbyOn = m.ID
			}
		}
		if !slices.Contains(next[standbyOn].Active, id) {
			t.Fatalf("task %s of the dead member had its standby on %s but went elsewhere: %v", id, standbyOn, next)
		}
	}
	// Survivors keep their own tasks.
	for _, m := range ms[1:] {
		for _, id := range out[m.ID].Active {
			if !slices.Contains(next[m.ID].Active, id) {
				t.Fatalf("%s lost its task %s", m.ID, id)
			}
		}
	}
}

func TestAssignPrefersCheckpointedState(t *testing.T) {
	tasks := taskRange(1, 4)
	ms := members("a", "b")
	// Nobody ran anything; b holds older state of task 0_1, a newer.
	ms[0].Sub.Offsets[topology.TaskID{Partition: 1}] = 500
	ms[1].Sub.Offsets[topology.TaskID{Partition: 1}] = 20
	ms[1].Sub.Offsets[topology.TaskID{Partition: 2}] = 7
	out := assignTasks(tasks, allStateful, ms, 0)
	checkAssignment(t, tasks, allStateful, ms, 0, out)
	if !slices.Contains(out["member-a"].Active, topology.TaskID{Partition: 1}) || !slices.Contains(out["member-b"].Active, topology.TaskID{Partition: 2}) {
		t.Fatalf("state ignored: %v", out)
	}
}

func TestAssignStandbysOnlyForStatefulTasks(t *testing.T) {
	tasks := taskRange(2, 6)
	stateful := func(id topology.TaskID) bool { return id.Subtopology == 1 }
	ms := members("a", "b", "c")
	for _, standbys := range []int{0, 1, 2, 5} {
		out := assignTasks(tasks, stateful, ms, standbys)
		checkAssignment(t, tasks, stateful, ms, standbys, out)
		if standbys == 1 {
			for _, m := range ms {
				if n := len(out[m.ID].Standby); n != 2 {
					t.Fatalf("%s has %d standbys, want 2", m.ID, n)
				}
			}
		}
	}
	// One member: no standby anywhere.
	out := assignTasks(tasks, stateful, ms[:1], 2)
	checkAssignment(t, tasks, stateful, ms[:1], 2, out)
}

// TestAssignRandomized runs generations with members coming and going and
// checks the invariants and stickiness: a task leaves a member still
// present only if that member is full.
func TestAssignRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		tasks := taskRange(1+rng.IntN(3), int32(1+rng.IntN(16)))
		standbys := rng.IntN(3)
		stateful := func(id topology.TaskID) bool { return (int(id.Partition)+id.Subtopology)%3 != 0 }
		pool := members("a", "b", "c", "d", "e", "f")
		live := pool[:1+rng.IntN(len(pool))]
		var prev map[string]memberAssignment
		for gen := range 6 {
			out := assignTasks(tasks, stateful, live, standbys)
			checkAssignment(t, tasks, stateful, live, standbys, out)
			floor, extra := len(tasks)/len(live), len(tasks)%len(live)
			atCeil := 0
			for _, m := range live {
				if len(out[m.ID].Active) > floor {
					atCeil++
				}
			}
			for _, m := range live {
				for _, id := range m.Sub.PrevActive {
					n := len(out[m.ID].Active)
					full := n > floor || (n == floor && atCeil == extra)
					if !slices.Contains(out[m.ID].Active, id) && !full {
						t.Fatalf("round %d gen %d: %s lost %s with room to keep it (%d tasks, floor %d)", round, gen, m.ID, id, n, floor)
					}
				}
			}
			prev = out
			carryOver(live, prev)
			// Some members leave, some join.
			var next []assignMember
			for _, m := range pool {
				in := slices.ContainsFunc(live, func(l assignMember) bool { return l.ID == m.ID })
				if (in && rng.IntN(4) > 0) || (!in && rng.IntN(3) == 0) {
					if in {
						m = live[slices.IndexFunc(live, func(l assignMember) bool { return l.ID == m.ID })]
					} else {
						m.Sub.PrevActive, m.Sub.PrevStandby = nil, nil
					}
					next = append(next, m)
				}
			}
			if len(next) == 0 {
				next = pool[:1]
			}
			live = next
		}
	}
}
