package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/member"
	"github.com/eddy-streams/eddy/internal/topology"
)

// membership is this instance's place in the application's consumer
// group: the member, the requestor its offset commits go through, and the
// assignment of the current generation.
type membership struct {
	e         *Engine
	m         *member.Member
	req       kmsg.Requestor
	processID string
	topics    []string // every source topic: the group's subscription

	// subscribe returns this instance's join metadata; the runtime sets it
	// (it knows which tasks run here).
	subscribe func() subscription

	mu   sync.Mutex
	cur  GroupAssignment
	has  bool
	done <-chan struct{} // the current generation's end
}

// GroupAssignment is the group's assignment of the current generation, as
// this instance was told it.
type GroupAssignment struct {
	Generation int32
	// ProcessID identifies this instance among Instances.
	ProcessID string
	// Instances lists every instance of the generation, this one included.
	Instances []Instance
}

// errAssign marks an assignment the leader could not make; it stops the
// app rather than being retried.
var errAssign = errors.New("engine: group assignment")

// errFenced reports an offset commit the coordinator refused because this
// instance's generation is over: its tasks may belong to others now.
var errFenced = errors.New("engine: not a member of the current generation")

func (e *Engine) newMembership(gc broker.GroupCapable) (*membership, error) {
	g := &membership{e: e, processID: uuid.NewString()}
	g.req = gc.GroupRequestor(e.cfg.AppID + "-" + g.processID)
	set := map[string]bool{}
	for _, st := range e.plan.subs {
		for _, t := range st.Topics {
			set[t] = true
		}
	}
	for t := range set {
		g.topics = append(g.topics, t)
	}
	slices.Sort(g.topics)
	m, err := member.New(g.req, member.Config{
		Group:        e.cfg.AppID,
		ClientID:     e.cfg.AppID,
		ProtocolType: consumerProtocol,
		Protocols: []member.Protocol{{Name: assignProtocol, Metadata: func() []byte {
			return encodeSubscription(g.topics, g.subscribe())
		}}},
		Assign:            g.assign,
		SessionTimeout:    e.cfg.SessionTimeout,
		RebalanceTimeout:  e.cfg.RebalanceTimeout,
		HeartbeatInterval: e.cfg.HeartbeatInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: group %s: %w", e.cfg.AppID, err)
	}
	g.m = m
	return g, nil
}

// assign runs on the leader: every member's metadata in, every member's
// assignment out.
func (g *membership) assign(protocol string, metas []member.Meta) (map[string][]byte, error) {
	if protocol != assignProtocol {
		return nil, fmt.Errorf("%w: protocol %q chosen, this instance speaks %q", errAssign, protocol, assignProtocol)
	}
	ms := make([]assignMember, 0, len(metas))
	for _, m := range metas {
		sub, err := decodeSubscription(m.Metadata)
		if err != nil {
			return nil, fmt.Errorf("%w: member %s: %w", errAssign, m.MemberID, err)
		}
		ms = append(ms, assignMember{ID: m.MemberID, Sub: sub})
	}
	p := g.e.plan
	stateful := func(id topology.TaskID) bool {
		for _, s := range p.subs[id.Subtopology].Stores {
			if p.changelogs[s] != "" {
				return true
			}
		}
		return false
	}
	plan := assignTasks(p.taskIDs(), stateful, ms, g.e.cfg.StandbyReplicas)
	out := make(map[string][]byte, len(plan))
	for id, a := range plan {
		parts := map[string][]int32{}
		for _, t := range a.Active {
			for _, topic := range p.subs[t.Subtopology].Topics {
				parts[topic] = append(parts[topic], t.Partition)
			}
		}
		out[id] = encodeAssignment(parts, a)
	}
	return out, nil
}

// commit commits offsets in the current generation's name. A refusal
// because the generation is over wraps errFenced.
func (g *membership) commit(ctx context.Context, offsets []broker.TopicPartitionOffset) error {
	gen, memberID := g.m.Generation()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = 8
	req.Group, req.Generation, req.MemberID = g.e.cfg.AppID, gen, memberID
	byTopic := map[string]int{}
	for _, o := range offsets {
		i, ok := byTopic[o.Topic]
		if !ok {
			t := kmsg.NewOffsetCommitRequestTopic()
			t.Topic = o.Topic
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			byTopic[o.Topic] = i
		}
		p := kmsg.NewOffsetCommitRequestTopicPartition()
		p.Partition, p.Offset, p.LeaderEpoch = o.Partition, o.Offset, -1
		md := o.Metadata
		p.Metadata = &md
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, p)
	}
	resp, err := req.RequestWith(ctx, g.req)
	if err != nil {
		return fmt.Errorf("group %s generation %d: %w", g.e.cfg.AppID, gen, err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			err := kerr.ErrorForCode(p.ErrorCode)
			switch {
			case err == nil:
			case errors.Is(err, kerr.IllegalGeneration), errors.Is(err, kerr.UnknownMemberID),
				errors.Is(err, kerr.FencedInstanceID), errors.Is(err, kerr.RebalanceInProgress):
				return fmt.Errorf("%w: group %s generation %d: %s-%d: %w", errFenced, g.e.cfg.AppID, gen, t.Topic, p.Partition, err)
			default:
				return fmt.Errorf("group %s generation %d: %s-%d: %w", g.e.cfg.AppID, gen, t.Topic, p.Partition, err)
			}
		}
	}
	return nil
}

func (g *membership) setAssignment(gen member.Generation, a memberAssignment) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur = GroupAssignment{Generation: gen.ID, ProcessID: g.processID, Instances: a.Instances}
	g.has = true
	g.done = gen.Done
}

// ended reports whether the current generation is over (or none began).
func (g *membership) ended() bool {
	g.mu.Lock()
	done := g.done
	g.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// fenced asks the coordinator, with a heartbeat in the ended generation's
// name, whether this member is still in the group: a rebalance in
// progress is an answer for a member that may still commit; an unknown
// member or a past generation means the group went on without it.
func (g *membership) fenced(ctx context.Context) bool {
	gen, memberID := g.m.Generation()
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 4
	hb.Group, hb.Generation, hb.MemberID = g.e.cfg.AppID, gen, memberID
	resp, err := hb.RequestWith(ctx, g.req)
	if err != nil {
		return false // unknown: try the commit, which says it too
	}
	err = kerr.ErrorForCode(resp.ErrorCode)
	return errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) || errors.Is(err, kerr.FencedInstanceID)
}

// generationOver reports whether the engine is in a group whose current
// generation has ended: workers then leave committing to the runtime,
// which first checks that the instance is still a member.
func (e *Engine) generationOver() bool { return e.group != nil && e.group.ended() }

func (g *membership) assignment() (GroupAssignment, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cur, g.has
}

// commitOffsets commits input offsets: in the generation's name when the
// engine is in a group, else as a simple commit.
func (e *Engine) commitOffsets(ctx context.Context, offsets []broker.TopicPartitionOffset) error {
	if e.group != nil {
		return e.group.commit(ctx, offsets)
	}
	return e.cfg.Client.CommitOffsets(ctx, e.cfg.AppID, offsets)
}
