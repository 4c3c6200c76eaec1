package wire

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// gaVersions is the version a test client speaks of each group API.
type gaVersions struct {
	join, sync, heartbeat, leave, commit, fetch, describe, list int16
}

var (
	// OffsetCommit v0 has no generation: its commits are for groups without
	// members, so the oldest version a member commits with is v1.
	gaOldest = gaVersions{commit: 1}
	gaNewest = gaVersions{join: 9, sync: 5, heartbeat: 4, leave: 5, commit: 10, fetch: 10, describe: 6, list: 5}
)

// gaMember is one consumer-group member on its own connection.
type gaMember struct {
	t     *testing.T
	c     *gaConn
	v     gaVersions
	group string
	topic string
	tid   [16]byte // the topic's id, for OffsetCommit and OffsetFetch v10
	id    string
	gen   int32
}

func (ab *gaBroker) member(t *testing.T, v gaVersions, group, topic string) *gaMember {
	info, ok := ab.b.Topic(topic)
	if !ok {
		t.Fatalf("no topic %s", topic)
	}
	return &gaMember{t: t, c: ab.connect(t), v: v, group: group, topic: topic, tid: info.ID}
}

func (m *gaMember) joinRequest() *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = m.v.join
	req.Group = m.group
	req.SessionTimeoutMillis = 10_000
	req.RebalanceTimeoutMillis = 10_000
	req.MemberID = m.id
	req.ProtocolType = "consumer"
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{m.topic}
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", meta.AppendTo(nil)
	req.Protocols = append(req.Protocols, p)
	return req
}

// startJoin sends a JoinGroup, first fetching a member id the way v4+
// clients must (MEMBER_ID_REQUIRED).
func (m *gaMember) startJoin() *gaPending[*kmsg.JoinGroupResponse] {
	m.t.Helper()
	if m.id == "" && m.v.join >= 4 {
		resp := gaCall[*kmsg.JoinGroupResponse](m.c, m.joinRequest())
		gaWantErr(m.t, "first join", resp.ErrorCode, kerr.MemberIDRequired)
		if resp.MemberID == "" {
			m.t.Fatal("MEMBER_ID_REQUIRED without a member id")
		}
		m.id = resp.MemberID
	}
	return gaStart[*kmsg.JoinGroupResponse](m.c, m.joinRequest())
}

func (m *gaMember) joined(p *gaPending[*kmsg.JoinGroupResponse]) *kmsg.JoinGroupResponse {
	m.t.Helper()
	resp := p.wait()
	gaWantErr(m.t, "join", resp.ErrorCode, nil)
	m.id, m.gen = resp.MemberID, resp.Generation
	return resp
}

// startSync sends a SyncGroup; the leader passes the assignment of every
// member, followers pass nil.
func (m *gaMember) startSync(assignments map[string]string) *gaPending[*kmsg.SyncGroupResponse] {
	m.t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.Generation, req.MemberID = m.v.sync, m.group, m.gen, m.id
	if m.v.sync >= 5 {
		req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	}
	for id, a := range assignments {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = id, []byte(a)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return gaStart[*kmsg.SyncGroupResponse](m.c, req)
}

func (m *gaMember) synced(p *gaPending[*kmsg.SyncGroupResponse], want string) {
	m.t.Helper()
	resp := p.wait()
	gaWantErr(m.t, "sync", resp.ErrorCode, nil)
	if string(resp.MemberAssignment) != want {
		m.t.Fatalf("member %s assigned %q, want %q", m.id, resp.MemberAssignment, want)
	}
}

func (m *gaMember) heartbeat() int16 {
	m.t.Helper()
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version, req.Group, req.Generation, req.MemberID = m.v.heartbeat, m.group, m.gen, m.id
	return gaCall[*kmsg.HeartbeatResponse](m.c, req).ErrorCode
}

func (m *gaMember) leave() {
	m.t.Helper()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Version, req.Group = m.v.leave, m.group
	if m.v.leave >= 3 {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = m.id
		req.Members = append(req.Members, lm)
	} else {
		req.MemberID = m.id
	}
	resp := gaCall[*kmsg.LeaveGroupResponse](m.c, req)
	gaWantErr(m.t, "leave", resp.ErrorCode, nil)
	if m.v.leave >= 3 && (len(resp.Members) != 1 || resp.Members[0].ErrorCode != 0) {
		m.t.Fatalf("leave: %+v", resp.Members)
	}
}

// commit commits one offset as this member (a simple commit, without
// generation, at v0) and returns the partition's error code.
func (m *gaMember) commit(partition int32, offset int64, generation int32) int16 {
	m.t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version, req.Group, req.Generation, req.MemberID = m.v.commit, m.group, generation, m.id
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic, rt.TopicID = m.topic, m.tid
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.Metadata = partition, offset, kmsg.StringPtr("meta")
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := gaCall[*kmsg.OffsetCommitResponse](m.c, req)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		m.t.Fatalf("commit response %+v", resp.Topics)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// fetched returns the group's committed offset of one partition.
func (m *gaMember) fetched(partition int32) int64 {
	m.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = m.v.fetch
	if m.v.fetch >= 8 {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = m.group
		rt := kmsg.NewOffsetFetchRequestGroupTopic()
		rt.Topic, rt.TopicID, rt.Partitions = m.topic, m.tid, []int32{partition}
		rg.Topics = append(rg.Topics, rt)
		req.Groups = append(req.Groups, rg)
		resp := gaCall[*kmsg.OffsetFetchResponse](m.c, req)
		if len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 || len(resp.Groups[0].Topics) != 1 {
			m.t.Fatalf("offset fetch v%d: %+v", m.v.fetch, resp.Groups)
		}
		p := resp.Groups[0].Topics[0].Partitions[0]
		gaWantErr(m.t, "offset fetch", p.ErrorCode, nil)
		return p.Offset
	}
	req.Group = m.group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = m.topic, []int32{partition}
	req.Topics = append(req.Topics, rt)
	resp := gaCall[*kmsg.OffsetFetchResponse](m.c, req)
	gaWantErr(m.t, "offset fetch", resp.ErrorCode, nil)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		m.t.Fatalf("offset fetch v%d: %+v", m.v.fetch, resp.Topics)
	}
	p := resp.Topics[0].Partitions[0]
	gaWantErr(m.t, "offset fetch", p.ErrorCode, nil)
	return p.Offset
}

func (m *gaMember) describe() kmsg.DescribeGroupsResponseGroup {
	m.t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version, req.Groups = m.v.describe, []string{m.group}
	resp := gaCall[*kmsg.DescribeGroupsResponse](m.c, req)
	if len(resp.Groups) != 1 {
		m.t.Fatalf("describe: %+v", resp.Groups)
	}
	return resp.Groups[0]
}

// TestGroupLifecycleOverTheWire runs a group through two members joining,
// syncing, heartbeating, committing and leaving, at the oldest and the
// newest versions of every group API, each member on its own connection.
func TestGroupLifecycleOverTheWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    gaVersions
	}{{"oldest", gaOldest}, {"newest", gaNewest}} {
		t.Run(tc.name, func(t *testing.T) {
			ab := startGABroker(t)
			ab.createTopic(t, "events", 2, nil)
			a := ab.member(t, tc.v, "g", "events")
			b := ab.member(t, tc.v, "g", "events")

			// A alone: joins as leader of generation 1.
			ja := a.joined(a.startJoin())
			if ja.Generation != 1 || ja.LeaderID != a.id || len(ja.Members) != 1 || !strings.HasPrefix(a.id, "test-") {
				t.Fatalf("first join: %+v", ja)
			}
			a.synced(a.startSync(map[string]string{a.id: "a:0,1"}), "a:0,1")
			gaWantErr(t, "heartbeat when stable", a.heartbeat(), nil)
			if d := a.describe(); d.State != "Stable" || len(d.Members) != 1 || d.Members[0].ClientHost != "/127.0.0.1" || d.Members[0].ClientID != "test" {
				t.Fatalf("describe after first sync: %+v", d)
			}

			// B joins: its JoinGroup waits while A learns of the rebalance
			// from its heartbeat and rejoins.
			pb := b.startJoin()
			gaEventually(t, "A told to rejoin", func() bool { return a.heartbeat() == kerr.RebalanceInProgress.Code })
			pa := a.startJoin()
			ja, jb := a.joined(pa), b.joined(pb)
			if ja.Generation != 2 || jb.Generation != 2 || ja.LeaderID != a.id || jb.LeaderID != a.id {
				t.Fatalf("second join: A %+v, B %+v", ja, jb)
			}
			if len(ja.Members) != 2 || len(jb.Members) != 0 {
				t.Fatalf("only the leader gets the members: A %d, B %d", len(ja.Members), len(jb.Members))
			}
			sb := b.startSync(nil)
			sa := a.startSync(map[string]string{a.id: "a:0", b.id: "b:1"})
			a.synced(sa, "a:0")
			b.synced(sb, "b:1")
			gaWantErr(t, "A heartbeat", a.heartbeat(), nil)
			gaWantErr(t, "B heartbeat", b.heartbeat(), nil)
			if d := a.describe(); d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != "range" || len(d.Members) != 2 {
				t.Fatalf("describe with two members: %+v", d)
			}

			// Offsets: members of the current generation commit; a stale
			// generation is refused.
			gaWantErr(t, "commit", a.commit(0, 42, a.gen), nil)
			gaWantErr(t, "commit", b.commit(1, 7, b.gen), nil)
			gaWantErr(t, "stale commit", a.commit(0, 1, a.gen-1), kerr.IllegalGeneration)
			if got := a.fetched(0); got != 42 {
				t.Fatalf("offset of partition 0: %d, want 42", got)
			}
			if got := b.fetched(1); got != 7 {
				t.Fatalf("offset of partition 1: %d, want 7", got)
			}

			// B leaves: A rebalances alone into generation 3.
			b.leave()
			gaEventually(t, "A told to rejoin", func() bool { return a.heartbeat() == kerr.RebalanceInProgress.Code })
			ja = a.joined(a.startJoin())
			if ja.Generation != 3 || len(ja.Members) != 1 {
				t.Fatalf("join after B left: %+v", ja)
			}
			a.synced(a.startSync(map[string]string{a.id: "a:0,1"}), "a:0,1")
			gaWantErr(t, "heartbeat", a.heartbeat(), nil)

			// A leaves: the group is empty but keeps its offsets.
			a.leave()
			if d := a.describe(); d.State != "Empty" || len(d.Members) != 0 {
				t.Fatalf("describe after everyone left: %+v", d)
			}
			if got := a.fetched(0); got != 42 {
				t.Fatalf("offset after the group emptied: %d, want 42", got)
			}
			lg := kmsg.NewPtrListGroupsRequest()
			lg.Version = tc.v.list
			groups := gaCall[*kmsg.ListGroupsResponse](a.c, lg)
			if len(groups.Groups) != 1 || groups.Groups[0].Group != "g" || groups.Groups[0].ProtocolType != "consumer" {
				t.Fatalf("list groups: %+v", groups.Groups)
			}
		})
	}
}

// TestEveryGroupAPIVersionOverTheWire takes a one-member group through its
// whole life at every version of every group API, so each registered
// version decodes, reaches the coordinator and encodes its answer.
func TestEveryGroupAPIVersionOverTheWire(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "events", 1, nil)
	for i := int16(0); i <= 10; i++ {
		v := gaVersions{
			join: min(i, 9), sync: min(i, 5), heartbeat: min(i, 4), leave: min(i, 5),
			commit: max(min(i, 10), 1), fetch: min(i, 10), describe: min(i, 6), list: min(i, 5),
		}
		m := ab.member(t, v, "versions-"+string(rune('a'+i)), "events")
		m.joined(m.startJoin())
		m.synced(m.startSync(map[string]string{m.id: "all"}), "all")
		gaWantErr(t, "heartbeat", m.heartbeat(), nil)
		gaWantErr(t, "commit", m.commit(0, int64(100+i), m.gen), nil)
		if got := m.fetched(0); got != int64(100+i) {
			t.Fatalf("versions %+v: fetched %d, want %d", v, got, 100+i)
		}
		if d := m.describe(); d.State != "Stable" || len(d.Members) != 1 || d.Members[0].MemberID != m.id {
			t.Fatalf("versions %+v: describe %+v", v, d)
		}
		lg := kmsg.NewPtrListGroupsRequest()
		lg.Version = v.list
		if resp := gaCall[*kmsg.ListGroupsResponse](m.c, lg); len(resp.Groups) != int(i)+1 {
			t.Fatalf("ListGroups v%d lists %d groups, want %d", v.list, len(resp.Groups), i+1)
		}
		m.leave()
	}

	// OffsetCommit v0 commits for a group without members.
	simple := ab.member(t, gaVersions{}, "simple", "events")
	gaWantErr(t, "v0 commit", simple.commit(0, 5, -1), nil)
	if got := simple.fetched(0); got != 5 {
		t.Fatalf("v0 commit then v0 fetch: %d, want 5", got)
	}
}

// TestDeleteGroupsOverTheWire deletes groups at every version: an empty
// group goes with its offsets; a group with members or an unknown one is
// refused.
func TestDeleteGroupsOverTheWire(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "events", 1, nil)
	busy := ab.member(t, gaNewest, "busy", "events")
	busy.joined(busy.startJoin())
	busy.synced(busy.startSync(map[string]string{busy.id: "all"}), "all")

	for v := int16(0); v <= 3; v++ {
		idle := ab.member(t, gaNewest, "idle", "events")
		gaWantErr(t, "simple commit", idle.commit(0, 9, -1), nil)
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version, req.Groups = v, []string{"idle", "busy", "never-existed"}
		resp := gaCall[*kmsg.DeleteGroupsResponse](idle.c, req)
		if len(resp.Groups) != 3 {
			t.Fatalf("DeleteGroups v%d: %+v", v, resp.Groups)
		}
		gaWantErr(t, "delete empty group", resp.Groups[0].ErrorCode, nil)
		gaWantErr(t, "delete group with members", resp.Groups[1].ErrorCode, kerr.NonEmptyGroup)
		gaWantErr(t, "delete unknown group", resp.Groups[2].ErrorCode, kerr.GroupIDNotFound)
		if got := idle.fetched(0); got != -1 {
			t.Fatalf("DeleteGroups v%d: offset %d survived the group", v, got)
		}
	}
}

// TestOffsetDeleteOverTheWire removes offsets of a topic the group no
// longer consumes, and refuses for a topic it does.
func TestOffsetDeleteOverTheWire(t *testing.T) {
	ab := startGABroker(t)
	ab.createTopic(t, "events", 1, nil)
	ab.createTopic(t, "retired", 1, nil)
	m := ab.member(t, gaNewest, "g", "events")
	m.joined(m.startJoin())
	m.synced(m.startSync(map[string]string{m.id: "all"}), "all")
	gaWantErr(t, "commit", m.commit(0, 3, m.gen), nil)
	old := ab.member(t, gaNewest, "g", "retired")
	old.id, old.gen = m.id, m.gen
	gaWantErr(t, "commit to the retired topic", old.commit(0, 4, m.gen), nil)

	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = "g"
	for _, topic := range []string{"events", "retired"} {
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetDeleteRequestTopicPartition()
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp := gaCall[*kmsg.OffsetDeleteResponse](m.c, req)
	gaWantErr(t, "offset delete", resp.ErrorCode, nil)
	if len(resp.Topics) != 2 {
		t.Fatalf("offset delete: %+v", resp.Topics)
	}
	gaWantErr(t, "delete offsets of a consumed topic", resp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic)
	gaWantErr(t, "delete offsets of a retired topic", resp.Topics[1].Partitions[0].ErrorCode, nil)
	if got := m.fetched(0); got != 3 {
		t.Fatalf("offset of the consumed topic: %d, want 3", got)
	}
	if got := old.fetched(0); got != -1 {
		t.Fatalf("offset of the retired topic: %d, want it deleted", got)
	}

	req.Group = "unknown"
	gaWantErr(t, "offset delete of an unknown group", gaCall[*kmsg.OffsetDeleteResponse](m.c, req).ErrorCode, kerr.GroupIDNotFound)
}
