package member_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/member"
	"github.com/eddy-streams/eddy/broker/wire"
)

func openBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Groups: group.Config{InitialRebalanceDelay: -1, MinSessionTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// roundRobin assigns tasks 0..n-1 over the members sorted by id; each
// member's assignment lists its tasks, comma separated.
func roundRobin(n int, calls *int, mu *sync.Mutex) func(string, []member.Meta) (map[string][]byte, error) {
	return func(protocol string, members []member.Meta) (map[string][]byte, error) {
		mu.Lock()
		*calls++
		mu.Unlock()
		if protocol != "rr" {
			return nil, fmt.Errorf("unexpected protocol %q", protocol)
		}
		ids := make([]string, len(members))
		for i, m := range members {
			if string(m.Metadata) != "meta-"+m.MemberID[:strings.IndexByte(m.MemberID, '-')] {
				return nil, fmt.Errorf("member %s sent metadata %q", m.MemberID, m.Metadata)
			}
			ids[i] = m.MemberID
		}
		slices.Sort(ids)
		out := map[string][]byte{}
		for task := 0; task < n; task++ {
			id := ids[task%len(ids)]
			if len(out[id]) > 0 {
				out[id] = append(out[id], ',')
			}
			out[id] = fmt.Appendf(out[id], "%d", task)
		}
		return out, nil
	}
}

func newMember(t *testing.T, req kmsg.Requestor, name string, assign func(string, []member.Meta) (map[string][]byte, error)) *member.Member {
	t.Helper()
	m, err := member.New(req, member.Config{
		Group: "app", ClientID: name, ProtocolType: "stream",
		Protocols:      []member.Protocol{{Name: "rr", Metadata: func() []byte { return []byte("meta-" + name) }}},
		Assign:         assign,
		SessionTimeout: 600 * time.Millisecond, RebalanceTimeout: 5 * time.Second, HeartbeatInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runner keeps one member in the group as an engine would: it rejoins as
// soon as a generation ends, and publishes each generation it gets.
type runner struct {
	m      *member.Member
	mu     sync.Mutex
	gen    member.Generation
	has    bool
	stop   context.CancelFunc
	exited chan struct{}
}

func run(t *testing.T, m *member.Member) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{m: m, stop: cancel, exited: make(chan struct{})}
	go func() {
		defer close(r.exited)
		for ctx.Err() == nil {
			g, err := m.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("next: %v", err)
				}
				return
			}
			r.mu.Lock()
			r.gen, r.has = g, true
			r.mu.Unlock()
			select {
			case <-g.Done:
			case <-ctx.Done():
			}
		}
	}()
	return r
}

// halt stops the runner; with leave it also leaves the group, otherwise the
// member just goes silent, as a crashed process does.
func (r *runner) halt(leave bool) {
	r.stop()
	<-r.exited
	if leave {
		r.m.Leave(context.Background())
	} else {
		r.m.Stop()
	}
}

func (r *runner) current() (member.Generation, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.has {
		return member.Generation{}, false
	}
	select {
	case <-r.gen.Done:
		return member.Generation{}, false
	default:
		return r.gen, true
	}
}

// settled waits until every runner holds a live generation, all the same,
// and returns each one's tasks, checking they cover 0..n-1 exactly once.
func settled(t *testing.T, rs map[string]*runner, n int) (map[string]member.Generation, map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		gens := map[string]member.Generation{}
		var id int32 = -1
		ok := true
		for name, r := range rs {
			g, live := r.current()
			if !live || (id >= 0 && g.ID != id) {
				ok = false
				break
			}
			id = g.ID
			gens[name] = g
		}
		if ok {
			tasks := map[string]string{}
			seen := map[string]bool{}
			for name, g := range gens {
				tasks[name] = string(g.Assignment)
				for _, task := range strings.Split(string(g.Assignment), ",") {
					if task != "" && seen[task] {
						t.Fatalf("task %s assigned twice: %v", task, tasks)
					}
					seen[task] = task != "" || seen[task]
				}
			}
			delete(seen, "")
			if len(seen) == n {
				return gens, tasks
			}
		}
		if time.Now().After(deadline) {
			var state []string
			for name, r := range rs {
				g, live := r.current()
				state = append(state, fmt.Sprintf("%s: gen %d live %v tasks %q", name, g.ID, live, g.Assignment))
			}
			t.Fatalf("the group did not settle: %v", state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testMembership(t *testing.T, requestor func(name string) kmsg.Requestor) {
	var calls int
	var mu sync.Mutex
	assign := roundRobin(12, &calls, &mu)
	rs := map[string]*runner{}
	for _, name := range []string{"a", "b", "c"} {
		rs[name] = run(t, newMember(t, requestor(name), name, assign))
	}
	gens, tasks := settled(t, rs, 12)
	for name, ts := range tasks {
		if strings.Count(ts, ",") != 3 {
			t.Fatalf("unbalanced: %s got %q", name, ts)
		}
	}
	leaders := 0
	for _, g := range gens {
		if g.Leader {
			leaders++
		}
	}
	if leaders != 1 || calls < 1 {
		t.Fatalf("%d leaders, assign called %d times", leaders, calls)
	}
	// c leaves: a and b get a new generation and share all tasks.
	rs["c"].halt(true)
	delete(rs, "c")
	gens2, tasks2 := settled(t, rs, 12)
	if gens2["a"].ID <= gens["a"].ID || strings.Count(tasks2["a"], ",") != 5 {
		t.Fatalf("after the leave: generation %d (was %d), tasks %v", gens2["a"].ID, gens["a"].ID, tasks2)
	}
	// b leaves too: a gets everything.
	rs["b"].halt(true)
	delete(rs, "b")
	_, tasks3 := settled(t, rs, 12)
	if strings.Count(tasks3["a"], ",") != 11 {
		t.Fatalf("a alone got %q", tasks3["a"])
	}
	rs["a"].halt(true)
}

func TestMembershipInProcess(t *testing.T) {
	b := openBroker(t)
	testMembership(t, func(name string) kmsg.Requestor { return b.GroupRequestor(name) })
}

func TestMembershipOverTheProtocol(t *testing.T) {
	b := openBroker(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := wire.SplitHostPort(ln.Addr().String())
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	testMembership(t, func(name string) kmsg.Requestor {
		cl, err := kgo.NewClient(kgo.SeedBrokers(ln.Addr().String()), kgo.ClientID(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	})
}

func TestSessionExpiryEndsTheGeneration(t *testing.T) {
	b := openBroker(t)
	var calls int
	var mu sync.Mutex
	assign := roundRobin(4, &calls, &mu)
	rs := map[string]*runner{
		"a": run(t, newMember(t, b.GroupRequestor("a"), "a", assign)),
		"z": run(t, newMember(t, b.GroupRequestor("z"), "z", assign)),
	}
	gens, _ := settled(t, rs, 4)
	// z stops heartbeating without leaving, as a crashed process would:
	// once its session expires the group rebalances and a takes all.
	rs["z"].halt(false)
	delete(rs, "z")
	gens2, tasks := settled(t, rs, 4)
	if gens2["a"].ID <= gens["a"].ID || tasks["a"] != "0,1,2,3" {
		t.Fatalf("after z's session expired: generation %d (was %d), a has %q", gens2["a"].ID, gens["a"].ID, tasks["a"])
	}
	rs["a"].halt(true)
}
