package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// commitSlot is one partition of an OffsetCommit that passed the per-topic
// checks, with where its answer goes.
type commitSlot struct {
	tp    topicPartition
	entry offsetEntry
	code  *int16
}

// OffsetCommit stores offsets for group members of the current generation,
// and "simple" commits (generation -1, no member id) for groups without
// members, as standalone consumers send. Offsets are journaled before the
// answer; if the journal fails, nothing changes and every partition gets
// the journal's error code.
func (c *Coordinator) OffsetCommit(_ context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := kmsg.NewPtrOffsetCommitResponse()
	resp.Version = req.Version
	now := c.clock.Now()

	var slots []commitSlot
	resp.Topics = make([]kmsg.OffsetCommitResponseTopic, len(req.Topics))
	for ti, rt := range req.Topics {
		t := &resp.Topics[ti]
		*t = kmsg.NewOffsetCommitResponseTopic()
		if req.Version >= 10 {
			t.TopicID = rt.TopicID
		} else {
			t.Topic = rt.Topic
		}
		name, topicCode := c.resolveTopic(req.Version, rt.Topic, rt.TopicID)
		t.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			p := &t.Partitions[pi]
			*p = kmsg.NewOffsetCommitResponseTopicPartition()
			p.Partition = rp.Partition
			switch {
			case topicCode != 0:
				p.ErrorCode = topicCode
			case rp.Metadata != nil && len(*rp.Metadata) > c.cfg.OffsetMetadataMaxBytes:
				p.ErrorCode = kerr.OffsetMetadataTooLarge.Code
			default:
				slots = append(slots, commitSlot{
					tp:    topicPartition{topic: name, partition: rp.Partition},
					entry: commitEntry(req, &rp, now),
					code:  &p.ErrorCode,
				})
			}
		}
	}
	if code := c.commitOffsets(req, slots); code != 0 {
		for _, s := range slots {
			*s.code = code
		}
	}
	return resp
}

func commitEntry(req *kmsg.OffsetCommitRequest, rp *kmsg.OffsetCommitRequestTopicPartition, now time.Time) offsetEntry {
	e := offsetEntry{offset: rp.Offset, leaderEpoch: -1, committed: now}
	if req.Version >= 6 {
		e.leaderEpoch = rp.LeaderEpoch
	}
	if rp.Metadata != nil {
		e.metadata = *rp.Metadata
	}
	if req.Version == 1 && rp.Timestamp != -1 {
		e.committed = time.UnixMilli(rp.Timestamp)
	}
	if req.Version >= 2 && req.Version <= 4 && req.RetentionTimeMillis != -1 {
		e.expires = now.Add(time.Duration(req.RetentionTimeMillis) * time.Millisecond)
	}
	return e
}

// resolveTopic returns the topic's name, or the error code for a topic the
// broker does not have.
func (c *Coordinator) resolveTopic(version int16, name string, id [16]byte) (string, int16) {
	if version >= 10 {
		if c.cfg.Topics == nil {
			return "", kerr.UnknownTopicID.Code
		}
		n, ok := c.cfg.Topics.TopicName(id)
		if !ok {
			return "", kerr.UnknownTopicID.Code
		}
		return n, 0
	}
	if c.cfg.Topics != nil {
		if _, ok := c.cfg.Topics.TopicID(name); !ok {
			return "", kerr.UnknownTopicOrPartition.Code
		}
	}
	return name, 0
}

// commitOffsets validates the committer, journals the offsets and applies
// them, returning a code for every slot.
func (c *Coordinator) commitOffsets(req *kmsg.OffsetCommitRequest, slots []commitSlot) int16 {
	if c.closed.Load() {
		return kerr.CoordinatorNotAvailable.Code
	}
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	generation, memberID := req.Generation, req.MemberID
	if req.Version == 0 {
		generation, memberID = -1, ""
	}
	var instanceID *string
	if req.Version >= 7 {
		instanceID = req.InstanceID
	}
	// Only commits from outside group management may create a group.
	g := c.lockGroupForJournal(req.Group, generation < 0)
	if g == nil {
		return kerr.IllegalGeneration.Code
	}
	defer g.journalMu.Unlock()
	if code := g.validateCommit(generation, memberID, instanceID); code != 0 {
		c.forgetIfUnused(g)
		g.mu.Unlock()
		return code
	}
	if len(slots) == 0 {
		g.mu.Unlock()
		return 0
	}
	records := make([]JournalRecord, len(slots))
	for i, s := range slots {
		records[i] = offsetRecord(g.name, s.tp, s.entry)
	}
	g.mu.Unlock()

	// journalMu keeps this group's offsets changing in journal order while
	// mu is free for heartbeats during the append.
	err := c.append(records)

	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		c.log.Error("offset commit not journaled", "group", g.name, "err", err)
		c.forgetIfUnused(g)
		return journalErrCode(err)
	}
	for _, s := range slots {
		g.offsets[s.tp] = s.entry
	}
	return 0
}

// validateCommit applies Kafka's rules for who may commit to a group.
func (g *group) validateCommit(generation int32, memberID string, instanceID *string) int16 {
	if generation < 0 && g.state == stateEmpty {
		// Admin tools and consumers that assign partitions themselves.
		return 0
	}
	if generation >= 0 || memberID != "" || instanceID != nil {
		if err := g.validateMember(memberID, instanceID); err != nil {
			return err.Code
		}
		if generation != g.generation {
			return kerr.IllegalGeneration.Code
		}
	} else if g.state != stateEmpty {
		return kerr.UnknownMemberID.Code
	}
	if g.state == stateCompletingRebalance {
		// The member knows the new generation but not yet its assignment;
		// it must not commit for partitions it may be about to lose.
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// Committed returns a group's committed offset for one partition, for the
// in-process runtime.
func (c *Coordinator) Committed(group, topic string, partition int32) (offset int64, metadata string, ok bool) {
	g := c.lockGroup(group, false)
	if g == nil {
		return -1, "", false
	}
	defer g.mu.Unlock()
	e, ok := g.offsets[topicPartition{topic: topic, partition: partition}]
	if !ok {
		return -1, "", false
	}
	return e.offset, e.metadata, true
}

// OffsetDelete removes committed offsets of a group that does not consume
// the topics any more (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
func (c *Coordinator) OffsetDelete(_ context.Context, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := kmsg.NewPtrOffsetDeleteResponse()
	resp.Version = req.Version
	if c.closed.Load() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	g := c.lockGroupForJournal(req.Group, false)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	defer g.journalMu.Unlock()
	defer g.mu.Unlock()

	active := g.state != stateEmpty
	if active && g.protocolType != consumerProtocolType {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp
	}
	var subscribed func(string) bool
	if active {
		subscribed = g.subscribedTo()
	}
	var doomed []topicPartition
	var codes []*int16
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetDeleteResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetDeleteResponseTopicPartition()
			p.Partition = rp.Partition
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
		rtResp := &resp.Topics[len(resp.Topics)-1]
		for i, rp := range rt.Partitions {
			p := &rtResp.Partitions[i]
			if subscribed != nil && subscribed(rt.Topic) {
				p.ErrorCode = kerr.GroupSubscribedToTopic.Code
				continue
			}
			tp := topicPartition{topic: rt.Topic, partition: rp.Partition}
			if _, ok := g.offsets[tp]; ok {
				doomed = append(doomed, tp)
				codes = append(codes, &p.ErrorCode)
			}
		}
	}
	if len(doomed) == 0 {
		return resp
	}
	// mu stays held so that the subscription check above still holds when
	// the tombstones land; deletes are rare.
	if err := c.append(offsetTombstones(g.name, append([]topicPartition(nil), doomed...))); err != nil {
		c.log.Error("offset delete not journaled", "group", g.name, "err", err)
		for _, code := range codes {
			*code = journalErrCode(err)
		}
		return resp
	}
	for _, tp := range doomed {
		delete(g.offsets, tp)
	}
	return resp
}
