package engine

import (
	"slices"

	"github.com/eddy-streams/eddy/internal/topology"
)

// assignMember is one member as the assignor sees it.
type assignMember struct {
	ID  string
	Sub subscription
}

// assignTasks is the leader's assignment: every task goes to exactly one
// member, and up to standbys other members keep a warm copy of a stateful
// task's stores.
//
// Active tasks are balanced: member loads differ by at most one. Within
// that bound a task stays where it ran (sticky: its state and position are
// there); a task that must move, or whose owner left, goes to the member
// whose local state of it is furthest along (a standby first, then a
// checkpoint left by an earlier owner), ties to the least loaded. Standby
// tasks are balanced too (within one of the even share where the
// exclusions allow), never on the member running the task nor twice on one
// member, preferring members holding few standbys of the same owner's
// tasks, so that the tasks of a member that dies have their warm copies on
// different members (each of which has room for one more task), then
// members that hold the task's state. The
// result depends only on the inputs (members are taken in id order), so
// it is the same whichever member leads.
func assignTasks(tasks []topology.TaskID, stateful func(topology.TaskID) bool, members []assignMember, standbys int) map[string]memberAssignment {
	members = slices.Clone(members)
	slices.SortFunc(members, func(a, b assignMember) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	n := len(members)
	out := make(map[string]memberAssignment, n)
	if n == 0 {
		return out
	}
	tasks = slices.Clone(tasks)
	slices.SortFunc(tasks, compareTasks)
	prevActive := make([]map[topology.TaskID]bool, n)
	for i, m := range members {
		prevActive[i] = setOf(m.Sub.PrevActive)
	}
	// progress ranks how far member i's local state of t is: running it
	// beats any checkpoint, any checkpoint beats none.
	progress := func(i int, t topology.TaskID) int64 {
		off, ok := members[i].Sub.Offsets[t]
		switch {
		case !ok:
			return -1
		case off == runningActiveOffset:
			return 1<<63 - 1
		}
		return off
	}

	owner := make(map[topology.TaskID]int, len(tasks))
	load := make([]int, n)
	floor, extra := len(tasks)/n, len(tasks)%n
	atCeil := 0 // members holding floor+1 tasks; at most extra may
	room := func(i int) bool { return load[i] < floor || (load[i] == floor && atCeil < extra) }
	take := func(i int, t topology.TaskID) {
		if load[i] == floor {
			atCeil++
		}
		load[i]++
		owner[t] = i
	}
	for _, t := range tasks { // sticky
		for i := range members {
			if prevActive[i][t] && room(i) {
				take(i, t)
				break
			}
		}
	}
	for _, t := range tasks {
		if _, ok := owner[t]; ok {
			continue
		}
		best := -1
		for i := range members {
			if !room(i) {
				continue
			}
			if best < 0 || progress(i, t) > progress(best, t) ||
				(progress(i, t) == progress(best, t) && load[i] < load[best]) {
				best = i
			}
		}
		take(best, t) // the quotas add up to len(tasks): someone has room
	}

	hasStandby := make([]map[topology.TaskID]bool, n)
	sload := make([]int, n)
	// pairs[o][i] counts standbys on i of tasks o runs: spreading them
	// spreads o's tasks over several members if o dies.
	pairs := make([][]int, n)
	for i := range hasStandby {
		hasStandby[i] = map[topology.TaskID]bool{}
		pairs[i] = make([]int, n)
	}
	replicas := min(standbys, n-1)
	if replicas > 0 {
		total := 0
		for _, t := range tasks {
			if stateful(t) {
				total += replicas
			}
		}
		capacity := (total + n - 1) / n
		for _, t := range tasks {
			if !stateful(t) {
				continue
			}
			for range replicas {
				best := -1
				for i := range members {
					if i == owner[t] || hasStandby[i][t] {
						continue
					}
					if best < 0 {
						best = i
						continue
					}
					// Under the balance bound first; then spread over the
					// owner's tasks; then state; then load.
					o := owner[t]
					iUnder, bUnder := sload[i] < capacity, sload[best] < capacity
					switch {
					case iUnder != bUnder:
						if iUnder {
							best = i
						}
					case pairs[o][i] != pairs[o][best]:
						if pairs[o][i] < pairs[o][best] {
							best = i
						}
					case progress(i, t) != progress(best, t):
						if progress(i, t) > progress(best, t) {
							best = i
						}
					case sload[i] < sload[best]:
						best = i
					}
				}
				hasStandby[best][t] = true
				sload[best]++
				pairs[owner[t]][best]++
			}
		}
	}

	instances := make([]Instance, n)
	for i, m := range members {
		instances[i] = Instance{ProcessID: m.Sub.ProcessID, Endpoint: m.Sub.Endpoint}
	}
	for _, t := range tasks {
		in := &instances[owner[t]]
		in.Active = append(in.Active, t)
		for i := range members {
			if hasStandby[i][t] {
				instances[i].Standby = append(instances[i].Standby, t)
			}
		}
	}
	for i, m := range members {
		out[m.ID] = memberAssignment{Active: instances[i].Active, Standby: instances[i].Standby, Instances: instances}
	}
	return out
}

func setOf(ids []topology.TaskID) map[topology.TaskID]bool {
	s := make(map[topology.TaskID]bool, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}
