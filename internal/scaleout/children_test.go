package scaleout

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is one instance: a process running runChild.
type child struct {
	name    string
	cmd     *exec.Cmd
	started time.Time
	exited  chan error

	mu     sync.Mutex
	ready  time.Time
	gens   []generation
	opened []opened
	// warm is the latest set of standby copies the child reported warm.
	warm []int32
}

type generation struct {
	id      int32
	active  []int32
	standby []int32
	at      time.Time
}

type opened struct {
	partition int32
	from      int64
	records   int64
	at        time.Time
}

func startChild(t *testing.T, addr, name string, standbys int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, "EDDY_SCALEOUT_BROKER="+addr,
		"EDDY_SCALEOUT_STATE="+t.TempDir(), "EDDY_SCALEOUT_STANDBYS="+strconv.Itoa(standbys))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	c := &child{name: name, cmd: cmd, exited: make(chan error, 1), started: time.Now()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.parse(sc.Text())
		}
		c.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return c
}

func (c *child) parse(line string) {
	f := strings.Fields(line)
	nums := func(s string) []int32 {
		if s == "-" {
			return nil
		}
		var out []int32
		for _, x := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(x)
			out = append(out, int32(n))
		}
		return out
	}
	at := func(s string) time.Time {
		ns, _ := strconv.ParseInt(s, 10, 64)
		return time.Unix(0, ns)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case len(f) == 2 && f[0] == "ready":
		c.ready = at(f[1])
	case len(f) == 5 && f[0] == "gen":
		id, _ := strconv.Atoi(f[1])
		c.gens = append(c.gens, generation{id: int32(id), active: nums(f[2]), standby: nums(f[3]), at: at(f[4])})
	case len(f) == 3 && f[0] == "warm":
		c.warm = nums(f[1])
	case len(f) == 5 && f[0] == "opened":
		p, _ := strconv.Atoi(f[1])
		from, _ := strconv.ParseInt(f[2], 10, 64)
		n, _ := strconv.ParseInt(f[3], 10, 64)
		c.opened = append(c.opened, opened{partition: int32(p), from: from, records: n, at: at(f[4])})
	}
}

// current returns the child's latest generation.
func (c *child) current() (generation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gens) == 0 {
		return generation{}, false
	}
	return c.gens[len(c.gens)-1], true
}

// openedSince returns the tasks the child started after at.
func (c *child) openedSince(at time.Time) []opened {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []opened
	for _, o := range c.opened {
		if o.at.After(at) {
			out = append(out, o)
		}
	}
	return out
}

// terminate asks the child to stop (it commits and leaves the group) and
// waits for it.
func (c *child) terminate(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		if err != nil {
			t.Fatalf("instance %s: %v", c.name, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("instance %s did not stop", c.name)
	}
}

// settled waits until the children agree on a generation in which each
// runs its share of the tasks (every partition once, loads within one)
// and has started them all; it returns each child's tasks.
func settled(t *testing.T, children ...*child) map[*child]generation {
	t.Helper()
	// A child joining rebuilds its tasks' state from the changelogs first:
	// seconds under -race on a quiet machine, several times that on a
	// loaded one.
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		out := map[*child]generation{}
		seen := map[int32]bool{}
		ok := true
		for _, c := range children {
			select {
			case err := <-c.exited:
				t.Fatalf("instance %s exited: %v", c.name, err)
			default:
			}
			g, has := c.current()
			if !has || (len(out) > 0 && g.id != out[children[0]].id) {
				ok = false
				break
			}
			out[c] = g
			for _, p := range g.active {
				seen[p] = true
			}
			if !c.runs(g.active) {
				ok = false
				break
			}
		}
		if ok && len(seen) == inputParts {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range children {
		g, _ := c.current()
		t.Logf("%s: generation %d active %v standby %v", c.name, g.id, g.active, g.standby)
	}
	t.Fatal("the instances did not settle")
	return nil
}

// standbysWarm waits until every child's standby copies of its
// generation in gens have finished their first restore: a standby still
// restoring spares its task nothing if the task comes to it. It returns
// how long that took.
func standbysWarm(t *testing.T, gens map[*child]generation) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for {
		cold := map[string][]int32{}
		for c, g := range gens {
			c.mu.Lock()
			for _, p := range g.standby {
				if !containsPartition(c.warm, p) {
					cold[c.name] = append(cold[c.name], p)
				}
			}
			c.mu.Unlock()
		}
		if len(cold) == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("standbys still restoring after %v: %v", time.Since(start).Round(time.Millisecond), cold)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runs reports whether the child has started every task of ps since it
// last got it.
func (c *child) runs(ps []int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	last := map[int32]time.Time{}
	for _, o := range c.opened {
		last[o.partition] = o.at
	}
	g := c.gens[len(c.gens)-1]
	for _, p := range ps {
		at, ok := last[p]
		if !ok {
			return false
		}
		// Opened in this generation, or kept from an earlier one.
		if at.Before(g.at) && !c.keptSince(p, at) {
			return false
		}
	}
	return true
}

// keptSince reports whether partition p stayed active in every generation
// since at (the caller holds mu).
func (c *child) keptSince(p int32, at time.Time) bool {
	for _, g := range c.gens {
		if g.at.After(at) && !containsPartition(g.active, p) {
			return false
		}
	}
	return true
}

func containsPartition(ps []int32, p int32) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}
