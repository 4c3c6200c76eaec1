package member

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Protocol is one assignment protocol this member supports, with the
// metadata it sends for it (computed at each join, so it can say what the
// member holds now).
type Protocol struct {
	Name     string
	Metadata func() []byte
}

// Meta is one member's join metadata, as the leader sees it.
type Meta struct {
	MemberID   string
	InstanceID string
	Metadata   []byte
}

// Config configures a member. Group, ProtocolType, Protocols and Assign are
// required.
type Config struct {
	Group        string
	ClientID     string
	InstanceID   string // static membership (group.instance.id), optional
	ProtocolType string // e.g. "stream"
	Protocols    []Protocol
	// Assign runs on the leader with the chosen protocol and every
	// member's metadata; it returns each member id's assignment.
	Assign func(protocol string, members []Meta) (map[string][]byte, error)
	// SessionTimeout, RebalanceTimeout and HeartbeatInterval default to
	// Kafka Streams' 45 s, 5 min and 3 s.
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	HeartbeatInterval time.Duration
}

// Generation is one generation's outcome for this member.
type Generation struct {
	ID         int32
	MemberID   string
	Leader     bool
	Protocol   string
	Assignment []byte
	// Done is closed when the generation ends: a rebalance started, the
	// session was lost, or the member stopped. The owner then finishes
	// its work for the generation and calls Next again.
	Done <-chan struct{}
}

// Member is one member of a group.
type Member struct {
	cfg Config
	req kmsg.Requestor

	mu       sync.Mutex
	memberID string
	gen      int32
	stopHB   context.CancelFunc
	hbDone   chan struct{}
}

// New returns a member that has not joined yet.
func New(req kmsg.Requestor, cfg Config) (*Member, error) {
	switch {
	case cfg.Group == "", cfg.ProtocolType == "", len(cfg.Protocols) == 0, cfg.Assign == nil:
		return nil, fmt.Errorf("member: Group, ProtocolType, Protocols and Assign are required")
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 45 * time.Second
	}
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = 5 * time.Minute
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 3 * time.Second
	}
	return &Member{cfg: cfg, req: req, gen: -1}, nil
}

// Next joins (or rejoins) the group and returns this member's assignment
// for the new generation, heartbeating in the background until the
// generation ends. Call it again once Done is closed.
func (m *Member) Next(ctx context.Context) (Generation, error) {
	m.stopHeartbeat()
	for {
		if err := ctx.Err(); err != nil {
			return Generation{}, err
		}
		g, err := m.joinAndSync(ctx)
		if err == nil {
			return g, nil
		}
		var ke *kerr.Error
		switch {
		case ctx.Err() != nil:
			return Generation{}, ctx.Err()
		case errors.As(err, &ke) && ke.Retriable, errors.Is(err, kerr.RebalanceInProgress),
			errors.Is(err, kerr.IllegalGeneration):
			continue // the group moved on while we joined: join again
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			m.mu.Lock()
			m.memberID, m.gen = "", -1
			m.mu.Unlock()
			continue
		default:
			return Generation{}, err
		}
	}
}

func (m *Member) joinAndSync(ctx context.Context) (Generation, error) {
	m.mu.Lock()
	memberID := m.memberID
	m.mu.Unlock()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Version = 9
	join.Group = m.cfg.Group
	join.SessionTimeoutMillis = int32(m.cfg.SessionTimeout.Milliseconds())
	join.RebalanceTimeoutMillis = int32(m.cfg.RebalanceTimeout.Milliseconds())
	join.MemberID = memberID
	if m.cfg.InstanceID != "" {
		join.InstanceID = &m.cfg.InstanceID
	}
	join.ProtocolType = m.cfg.ProtocolType
	for _, p := range m.cfg.Protocols {
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name, jp.Metadata = p.Name, p.Metadata()
		join.Protocols = append(join.Protocols, jp)
	}
	jr, err := join.RequestWith(ctx, m.req)
	if err != nil {
		return Generation{}, fmt.Errorf("member: join %s: %w", m.cfg.Group, err)
	}
	if err := kerr.ErrorForCode(jr.ErrorCode); err != nil {
		if errors.Is(err, kerr.MemberIDRequired) {
			m.mu.Lock()
			m.memberID = jr.MemberID
			m.mu.Unlock()
			return m.joinAndSync(ctx)
		}
		return Generation{}, fmt.Errorf("member: join %s: %w", m.cfg.Group, err)
	}
	m.mu.Lock()
	m.memberID, m.gen = jr.MemberID, jr.Generation
	m.mu.Unlock()
	protocol := ""
	if jr.Protocol != nil {
		protocol = *jr.Protocol
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version = 5
	sync.Group, sync.Generation, sync.MemberID = m.cfg.Group, jr.Generation, jr.MemberID
	sync.InstanceID = join.InstanceID
	sync.ProtocolType, sync.Protocol = &m.cfg.ProtocolType, jr.Protocol
	leader := jr.LeaderID == jr.MemberID
	if leader && !jr.SkipAssignment {
		members := make([]Meta, 0, len(jr.Members))
		for _, jm := range jr.Members {
			meta := Meta{MemberID: jm.MemberID, Metadata: jm.ProtocolMetadata}
			if jm.InstanceID != nil {
				meta.InstanceID = *jm.InstanceID
			}
			members = append(members, meta)
		}
		plan, err := m.cfg.Assign(protocol, members)
		if err != nil {
			return Generation{}, fmt.Errorf("member: assign %s: %w", m.cfg.Group, err)
		}
		for id, a := range plan {
			sa := kmsg.NewSyncGroupRequestGroupAssignment()
			sa.MemberID, sa.MemberAssignment = id, a
			sync.GroupAssignment = append(sync.GroupAssignment, sa)
		}
	}
	sr, err := sync.RequestWith(ctx, m.req)
	if err != nil {
		return Generation{}, fmt.Errorf("member: sync %s: %w", m.cfg.Group, err)
	}
	if err := kerr.ErrorForCode(sr.ErrorCode); err != nil {
		return Generation{}, fmt.Errorf("member: sync %s: %w", m.cfg.Group, err)
	}
	done := m.startHeartbeat(jr.Generation, jr.MemberID)
	return Generation{ID: jr.Generation, MemberID: jr.MemberID, Leader: leader, Protocol: protocol, Assignment: sr.MemberAssignment, Done: done}, nil
}

// startHeartbeat heartbeats until the coordinator reports a rebalance or an
// error, or stopHeartbeat; the returned channel closes then.
func (m *Member) startHeartbeat(gen int32, memberID string) <-chan struct{} {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.mu.Lock()
	m.stopHB, m.hbDone = cancel, done
	m.mu.Unlock()
	go func() {
		defer close(done)
		t := time.NewTicker(m.cfg.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			hb := kmsg.NewPtrHeartbeatRequest()
			hb.Version = 4
			hb.Group, hb.Generation, hb.MemberID = m.cfg.Group, gen, memberID
			if m.cfg.InstanceID != "" {
				hb.InstanceID = &m.cfg.InstanceID
			}
			resp, err := hb.RequestWith(ctx, m.req)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue // transient: keep trying within the session
			}
			if resp.ErrorCode != 0 {
				return // REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID...: the generation is over
			}
		}
	}()
	return done
}

func (m *Member) stopHeartbeat() {
	m.mu.Lock()
	stop, done := m.stopHB, m.hbDone
	m.stopHB, m.hbDone = nil, nil
	m.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// Stop stops heartbeating without leaving the group: the coordinator
// removes the member when its session expires. A static member (with an
// InstanceID) that restarts within the session keeps its assignment.
func (m *Member) Stop() { m.stopHeartbeat() }

// Generation returns the current generation id and member id, for
// commits made in the generation's name.
func (m *Member) Generation() (int32, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, m.memberID
}

// Leave stops heartbeating and leaves the group, so the others rebalance
// at once instead of after the session timeout.
func (m *Member) Leave(ctx context.Context) error {
	m.stopHeartbeat()
	m.mu.Lock()
	memberID := m.memberID
	m.memberID, m.gen = "", -1
	m.mu.Unlock()
	if memberID == "" {
		return nil
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version = 5
	req.Group = m.cfg.Group
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = memberID
	if m.cfg.InstanceID != "" {
		lm.InstanceID = &m.cfg.InstanceID
	}
	req.Members = append(req.Members, lm)
	resp, err := req.RequestWith(ctx, m.req)
	if err != nil {
		return fmt.Errorf("member: leave %s: %w", m.cfg.Group, err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return fmt.Errorf("member: leave %s: %w", m.cfg.Group, err)
	}
	return nil
}
