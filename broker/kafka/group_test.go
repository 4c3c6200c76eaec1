package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/group"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/broker/member"
	"github.com/eddy-streams/eddy/broker/wire"
)

// groupMember keeps one broker/member in a group through a kafka.Client's
// GroupRequestor, rejoining whenever a generation ends, as the engine
// does.
type groupMember struct {
	m      *member.Member
	client *kafka.Client
	mu     sync.Mutex
	gen    member.Generation
	stop   context.CancelFunc
	exited chan struct{}
	errs   chan error
}

// joinGroup starts a member that splits tasks 0..tasks-1 round-robin over
// the members sorted by id; assignments are comma-separated task lists.
func joinGroup(t *testing.T, addr, groupID, name string, tasks int, session time.Duration) *groupMember {
	t.Helper()
	c := newClient(t, addr)
	t.Cleanup(func() { c.Close() })
	assign := func(_ string, members []member.Meta) (map[string][]byte, error) {
		ids := make([]string, len(members))
		for i, m := range members {
			if !strings.HasPrefix(string(m.Metadata), "meta-") {
				return nil, fmt.Errorf("member %s sent metadata %q", m.MemberID, m.Metadata)
			}
			ids[i] = m.MemberID
		}
		slices.Sort(ids)
		out := map[string][]byte{}
		for task := range tasks {
			id := ids[task%len(ids)]
			if len(out[id]) > 0 {
				out[id] = append(out[id], ',')
			}
			out[id] = strconv.AppendInt(out[id], int64(task), 10)
		}
		return out, nil
	}
	m, err := member.New(c.GroupRequestor(name), member.Config{
		Group: groupID, ClientID: name, ProtocolType: "eddy-test",
		Protocols:      []member.Protocol{{Name: "rr", Metadata: func() []byte { return []byte("meta-" + name) }}},
		Assign:         assign,
		SessionTimeout: session, RebalanceTimeout: 10 * time.Second, HeartbeatInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &groupMember{m: m, client: c, stop: cancel, exited: make(chan struct{}), errs: make(chan error, 1)}
	go func() {
		defer close(g.exited)
		for ctx.Err() == nil {
			gen, err := m.Next(ctx)
			if err != nil {
				if ctx.Err() == nil {
					g.errs <- err
				}
				return
			}
			g.mu.Lock()
			g.gen = gen
			g.mu.Unlock()
			select {
			case <-gen.Done:
			case <-ctx.Done():
			}
		}
	}()
	return g
}

// live returns the member's generation while it lasts.
func (g *groupMember) live() (member.Generation, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen.Done == nil {
		return member.Generation{}, false
	}
	select {
	case <-g.gen.Done:
		return member.Generation{}, false
	default:
		return g.gen, true
	}
}

// halt stops the member, leaving the group or, as a crashed process
// would, just falling silent.
func (g *groupMember) halt(leave bool) {
	g.stop()
	<-g.exited
	if leave {
		g.m.Leave(context.Background())
	} else {
		g.m.Stop()
	}
}

// settle waits until every member holds the same live generation and their
// assignments cover every task once; it returns each one's task count.
func settle(t *testing.T, ms map[string]*groupMember, tasks int) (int32, map[string]int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		counts := map[string]int{}
		seen := map[string]bool{}
		gen := int32(-1)
		ok := true
		for name, m := range ms {
			select {
			case err := <-m.errs:
				t.Fatalf("member %s: %v", name, err)
			default:
			}
			g, live := m.live()
			if !live || (gen >= 0 && g.ID != gen) {
				ok = false
				break
			}
			gen = g.ID
			for _, task := range strings.Split(string(g.Assignment), ",") {
				if task == "" {
					continue
				}
				if seen[task] {
					t.Fatalf("task %s assigned twice in generation %d", task, gen)
				}
				seen[task] = true
				counts[name]++
			}
		}
		if ok && len(seen) == tasks {
			return gen, counts
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the group did not settle")
	return 0, nil
}

// commitInGeneration commits offset for topic-0 in a member's current
// generation through its requestor, and returns the partition's code.
func commitInGeneration(t *testing.T, g *groupMember, groupID, name, topic string, offset int64) error {
	t.Helper()
	gen, memberID := g.m.Generation()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group, req.Generation, req.MemberID = groupID, gen, memberID
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), g.client.GroupRequestor(name))
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("commit response for %d topics", len(resp.Topics))
	}
	return kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
}

// TestGroupRequestor runs broker/member's protocol through sarama: three
// members split six tasks, commit offsets in their generation (while a
// simple commit is refused, as Kafka refuses it for a group with members),
// and rebalance when one leaves; against the embedded broker over the
// Kafka protocol and against Apache Kafka.
func TestGroupRequestor(t *testing.T) {
	backends(t, func(t *testing.T, addr string) {
		groupID := uniqueName(t, "group")
		topic := uniqueName(t, "offsets")
		admin := newClient(t, addr)
		defer admin.Close()
		ctx := context.Background()
		if err := admin.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: 1}); err != nil {
			t.Fatal(err)
		}
		ms := map[string]*groupMember{}
		for _, name := range []string{"a", "b", "c"} {
			ms[name] = joinGroup(t, addr, groupID, name, 6, 6*time.Second)
		}
		gen1, counts := settle(t, ms, 6)
		for name, n := range counts {
			if n != 2 {
				t.Fatalf("generation %d: %s has %d tasks, want 2: %v", gen1, name, n, counts)
			}
		}
		if err := commitInGeneration(t, ms["a"], groupID, "a", topic, 42); err != nil {
			t.Fatalf("commit in generation %d: %v", gen1, err)
		}
		err := admin.CommitOffsets(ctx, groupID, []broker.TopicPartitionOffset{{TopicPartition: broker.TopicPartition{Topic: topic}, Offset: 7}})
		if !errors.Is(err, sarama.ErrUnknownMemberId) && !errors.Is(err, sarama.ErrIllegalGeneration) {
			t.Fatalf("a simple commit to a group with members: %v, want UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION", err)
		}
		got, err := admin.CommittedOffsets(ctx, groupID, []broker.TopicPartition{{Topic: topic}})
		if err != nil || got[0].Offset != 42 {
			t.Fatalf("committed offset %v (%v), want 42", got, err)
		}
		ms["c"].halt(true)
		delete(ms, "c")
		gen2, counts := settle(t, ms, 6)
		if gen2 <= gen1 || counts["a"] != 3 || counts["b"] != 3 {
			t.Fatalf("after c left: generation %d (was %d), tasks %v", gen2, gen1, counts)
		}
		// A commit in the old generation is refused.
		stale := kmsg.NewPtrOffsetCommitRequest()
		stale.Version = 8
		_, memberID := ms["a"].m.Generation()
		stale.Group, stale.Generation, stale.MemberID = groupID, gen1, memberID
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Offset = 1
		rt.Partitions = append(rt.Partitions, rp)
		stale.Topics = append(stale.Topics, rt)
		resp, err := stale.RequestWith(ctx, ms["a"].client.GroupRequestor("a"))
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
			t.Fatalf("commit in generation %d during %d: code %d, want ILLEGAL_GENERATION", gen1, gen2, code)
		}
		if err := commitInGeneration(t, ms["b"], groupID, "b", topic, 43); err != nil {
			t.Fatalf("commit in generation %d: %v", gen2, err)
		}
		for _, m := range ms {
			m.halt(true)
		}
	})
}

// TestGroupRequestorSessionExpiry: a member that falls silent is removed
// once its session expires and the survivor takes every task.
func TestGroupRequestorSessionExpiry(t *testing.T) {
	b, err := broker.Open(broker.Config{Dir: t.TempDir(), Logger: quietLogger(),
		Groups: group.Config{InitialRebalanceDelay: -1, MinSessionTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := wire.SplitHostPort(ln.Addr().String())
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()
	ms := map[string]*groupMember{
		"a": joinGroup(t, addr, "expiry", "a", 4, 600*time.Millisecond),
		"z": joinGroup(t, addr, "expiry", "z", 4, 600*time.Millisecond),
	}
	gen1, _ := settle(t, ms, 4)
	ms["z"].halt(false)
	delete(ms, "z")
	start := time.Now()
	gen2, counts := settle(t, ms, 4)
	if gen2 <= gen1 || counts["a"] != 4 {
		t.Fatalf("after z fell silent: generation %d (was %d), tasks %v", gen2, gen1, counts)
	}
	t.Logf("z's tasks moved %v after it fell silent (session 600ms)", time.Since(start).Round(10*time.Millisecond))
	ms["a"].halt(true)
}
