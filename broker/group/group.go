package group

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// state is a classic group's place in Kafka's rebalance state machine.
type state int8

const (
	stateEmpty state = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

// String returns the name Kafka uses in DescribeGroups and ListGroups.
func (s state) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	default:
		return "Dead"
	}
}

type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id         string
	instanceID *string
	clientID   string
	clientHost string
	// joinSeq orders members by arrival: the earliest joined member becomes
	// leader when the leader goes away.
	joinSeq          uint64
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []protocol
	assignment       []byte
	// isNew marks a member that has not completed its first join; it may be
	// expired while still awaiting the join (see newMemberJoinTimeout).
	isNew bool

	// joinWaiter and syncWaiter are set while the member's JoinGroup or
	// SyncGroup request waits; both are buffered so that answering never
	// blocks under the group lock.
	joinWaiter chan joinResult
	syncWaiter chan syncResult

	session    Timer
	sessionSeq uint64
}

func (m *member) awaitingJoin() bool { return m.joinWaiter != nil }
func (m *member) awaitingSync() bool { return m.syncWaiter != nil }

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

// sameProtocols reports whether a rejoin changes nothing the leader assigned
// from, in which case Kafka lets the member skip a rebalance.
func (m *member) sameProtocols(ps []protocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b protocol) bool {
		return a.name == b.name && bytes.Equal(a.metadata, b.metadata)
	})
}

func (m *member) answerJoin(r joinResult) {
	if m.joinWaiter != nil {
		m.joinWaiter <- r
		m.joinWaiter = nil
	}
}

func (m *member) answerSync(r syncResult) {
	if m.syncWaiter != nil {
		m.syncWaiter <- r
		m.syncWaiter = nil
	}
}

type joinResult struct {
	errCode        int16
	memberID       string
	generation     int32
	protocolType   string
	protocol       string
	leader         string
	skipAssignment bool
	members        []kmsg.JoinGroupResponseMember
}

type syncResult struct {
	errCode      int16
	protocolType string
	protocol     string
	assignment   []byte
}

type topicPartition struct {
	topic     string
	partition int32
}

type offsetEntry struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	committed   time.Time
	// expires is set only by OffsetCommit v2–v4 requests carrying their own
	// retention time.
	expires time.Time
}

// group is one consumer group: its membership state machine and its
// committed offsets. Lock order: journalMu, then mu, then Coordinator.mu.
type group struct {
	name string

	// journalMu orders this group's journal appends with the state changes
	// they record; it is held across Append so that mu is not.
	journalMu sync.Mutex

	mu           sync.Mutex
	state        state
	stateSince   time.Time
	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      map[string]*member
	nextJoinSeq  uint64
	// pending holds member ids handed out with MEMBER_ID_REQUIRED, each with
	// the timer that forgets it if the client never rejoins.
	pending map[string]Timer
	// static maps group.instance.id to the member id currently holding it.
	static map[string]string
	// pendingSync holds members that got a JoinGroup answer for the current
	// generation but have not sent SyncGroup yet.
	pendingSync map[string]bool

	// A rebalance timer is armed while PreparingRebalance (join deadline or
	// initial delay) and while members owe a SyncGroup; the sequence numbers
	// let a late callback recognise that it was superseded.
	joinTimer      Timer
	joinTimerSeq   uint64
	syncTimer      Timer
	syncTimerSeq   uint64
	initialDelay   bool
	newMemberAdded bool

	offsets map[topicPartition]offsetEntry
	// metadataDirty asks for a GroupMetadata record at the next journal
	// flush; the record is a full snapshot, so only the latest matters.
	metadataDirty bool
}

func newGroup(name string, now time.Time) *group {
	return &group{
		name:        name,
		stateSince:  now,
		members:     make(map[string]*member),
		pending:     make(map[string]Timer),
		static:      make(map[string]string),
		pendingSync: make(map[string]bool),
		offsets:     make(map[topicPartition]offsetEntry),
	}
}

func (g *group) transition(to state, now time.Time) {
	g.state = to
	g.stateSince = now
}

// supportsProtocols reports whether a joining member can be in this group:
// the first member defines the protocol type, later ones must share it and
// at least one protocol that every current member supports.
func (g *group) supportsProtocols(protocolType string, ps []protocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range ps {
		if g.supportCount(p.name) == len(g.members) {
			return true
		}
	}
	return false
}

func (g *group) supportCount(name string) int {
	n := 0
	for _, m := range g.members {
		if slices.ContainsFunc(m.protocols, func(p protocol) bool { return p.name == name }) {
			n++
		}
	}
	return n
}

// selectProtocol picks the protocol of the next generation as Kafka does:
// among the protocols every member supports, each member votes for its most
// preferred one and the most votes win. Kafka breaks ties arbitrarily; here
// the leader's preference breaks them, so the choice is reproducible.
func (g *group) selectProtocol() string {
	var candidates []string
	if leader := g.members[g.leader]; leader != nil {
		for _, p := range leader.protocols {
			if g.supportCount(p.name) == len(g.members) {
				candidates = append(candidates, p.name)
			}
		}
	}
	votes := make(map[string]int, len(candidates))
	for _, m := range g.members {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.name) {
				votes[p.name]++
				break
			}
		}
	}
	best := ""
	for _, name := range candidates {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// validateMember applies Kafka's identity rules for requests from members:
// a static member's instance id must still belong to this member id.
func (g *group) validateMember(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		switch holder, ok := g.static[*instanceID]; {
		case !ok:
			return kerr.UnknownMemberID
		case holder != memberID:
			return kerr.FencedInstanceID
		}
		return nil
	}
	if _, ok := g.members[memberID]; !ok {
		return kerr.UnknownMemberID
	}
	return nil
}

// earliestMember returns the longest-standing member satisfying keep, or nil.
func (g *group) earliestMember(keep func(*member) bool) *member {
	var best *member
	for _, m := range g.members {
		if keep(m) && (best == nil || m.joinSeq < best.joinSeq) {
			best = m
		}
	}
	return best
}

func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// allJoined reports whether the join phase can end early: every member has
// rejoined and nobody holds an unused MEMBER_ID_REQUIRED id.
func (g *group) allJoined() bool {
	if len(g.pending) > 0 {
		return false
	}
	for _, m := range g.members {
		if !m.awaitingJoin() {
			return false
		}
	}
	return true
}

func (g *group) numAwaitingJoin() int {
	n := 0
	for _, m := range g.members {
		if m.awaitingJoin() {
			n++
		}
	}
	return n
}

// leaderMembers is what the leader receives to compute an assignment.
func (g *group) leaderMembers() []kmsg.JoinGroupResponseMember {
	out := make([]kmsg.JoinGroupResponseMember, 0, len(g.members))
	for _, m := range g.sortedMembers() {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		// Responses leave the lock; the member keeps its own copy.
		jm.ProtocolMetadata = bytes.Clone(m.metadataFor(g.protocol))
		out = append(out, jm)
	}
	return out
}

func (g *group) sortedMembers() []*member {
	out := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *member) int { return cmp.Compare(a.joinSeq, b.joinSeq) })
	return out
}

func (g *group) joinResultFor(m *member) joinResult {
	r := joinResult{
		memberID:     m.id,
		generation:   g.generation,
		protocolType: g.protocolType,
		protocol:     g.protocol,
		leader:       g.leader,
	}
	if m.id == g.leader {
		r.members = g.leaderMembers()
	}
	return r
}

func stateMatches(s state, filter []string) bool {
	if len(filter) == 0 {
		return true
	}
	return slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, s.String()) })
}
