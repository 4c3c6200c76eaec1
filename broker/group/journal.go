package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record versions written to the journal. Kafka decides the record type
// from the key version: 0 and 1 are offset commits, 2 is group metadata.
const (
	offsetKeyVersion = 1
	groupKeyVersion  = 2
	// offsetValueVersion carries the leader epoch; offsetValueExpiring is
	// the older layout Kafka still writes for commits with an explicit
	// expiry (OffsetCommit v2–v4 retention time).
	offsetValueVersion  = 3
	offsetValueExpiring = 1
	groupValueVersion   = 3
)

// ErrCorruptRecord is returned by Replay for a record that does not decode
// as a __consumer_offsets record.
var ErrCorruptRecord = errors.New("group: corrupt journal record")

func offsetRecordKey(group string, tp topicPartition) []byte {
	k := kmsg.NewOffsetCommitKey()
	k.Version = offsetKeyVersion
	k.Group = group
	k.Topic = tp.topic
	k.Partition = tp.partition
	return k.AppendTo(nil)
}

func offsetRecord(group string, tp topicPartition, e offsetEntry) JournalRecord {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetValueVersion
	v.Offset = e.offset
	v.LeaderEpoch = e.leaderEpoch
	v.Metadata = e.metadata
	v.CommitTimestamp = e.committed.UnixMilli()
	if !e.expires.IsZero() {
		v.Version = offsetValueExpiring
		v.ExpireTimestamp = e.expires.UnixMilli()
	}
	return JournalRecord{Key: offsetRecordKey(group, tp), Value: v.AppendTo(nil)}
}

func offsetTombstone(group string, tp topicPartition) JournalRecord {
	return JournalRecord{Key: offsetRecordKey(group, tp)}
}

func groupRecordKey(name string) []byte {
	k := kmsg.NewGroupMetadataKey()
	k.Version = groupKeyVersion
	k.Group = name
	return k.AppendTo(nil)
}

func groupTombstone(name string) JournalRecord {
	return JournalRecord{Key: groupRecordKey(name)}
}

// metadataRecord snapshots the group as Kafka's GroupMetadataValue. When
// assignments is nil the members' current assignments are written.
func (g *group) metadataRecord(now time.Time, assignments map[string][]byte) JournalRecord {
	v := kmsg.NewGroupMetadataValue()
	v.Version = groupValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	if g.state == stateCompletingRebalance {
		// The record is written as the group turns stable.
		v.CurrentStateTimestamp = now.UnixMilli()
	}
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = m.instanceID
		vm.ClientID = m.clientID
		vm.ClientHost = m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout / time.Millisecond)
		vm.SessionTimeoutMillis = int32(m.sessionTimeout / time.Millisecond)
		vm.Subscription = m.metadataFor(g.protocol)
		vm.Assignment = m.assignment
		if assignments != nil {
			vm.Assignment = assignments[m.id]
		}
		v.Members = append(v.Members, vm)
	}
	return JournalRecord{Key: groupRecordKey(g.name), Value: v.AppendTo(nil)}
}

// offsetTombstones returns tombstones for the given offsets in a stable order.
func offsetTombstones(group string, tps []topicPartition) []JournalRecord {
	slices.SortFunc(tps, func(a, b topicPartition) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.partition) - int(b.partition)
	})
	out := make([]JournalRecord, 0, len(tps))
	for _, tp := range tps {
		out = append(out, offsetTombstone(group, tp))
	}
	return out
}

// Replay applies one stored journal record, in log order, to rebuild the
// coordinator after a restart. It must be called before the coordinator
// serves requests. Groups come back Empty with their last generation and
// protocol type: members must rejoin, as clients do once their coordinator
// changes. Records of types this coordinator does not write are skipped.
func (c *Coordinator) Replay(key, value []byte) error {
	if len(key) < 2 {
		return fmt.Errorf("%w: key of %d bytes", ErrCorruptRecord, len(key))
	}
	switch version := int16(binary.BigEndian.Uint16(key)); version {
	case 0, 1:
		return c.replayOffset(key, value)
	case 2:
		return c.replayGroup(key, value)
	default:
		c.log.Debug("skipping journal record of unknown type", "key_version", version)
		return nil
	}
}

func (c *Coordinator) replayOffset(key, value []byte) error {
	k := kmsg.NewOffsetCommitKey()
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("%w: offset commit key: %w", ErrCorruptRecord, err)
	}
	tp := topicPartition{topic: k.Topic, partition: k.Partition}
	if value == nil {
		if g := c.lockGroup(k.Group, false); g != nil {
			delete(g.offsets, tp)
			c.forgetIfUnused(g)
			g.mu.Unlock()
		}
		return nil
	}
	v := kmsg.NewOffsetCommitValue()
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("%w: offset commit value for group %q %s[%d]: %w",
			ErrCorruptRecord, k.Group, k.Topic, k.Partition, err)
	}
	e := offsetEntry{
		offset:      v.Offset,
		leaderEpoch: v.LeaderEpoch,
		metadata:    v.Metadata,
		committed:   time.UnixMilli(v.CommitTimestamp),
	}
	if v.Version < 3 {
		e.leaderEpoch = -1
	}
	if v.Version == 1 {
		e.expires = time.UnixMilli(v.ExpireTimestamp)
	}
	g := c.lockGroup(k.Group, true)
	g.offsets[tp] = e
	g.mu.Unlock()
	return nil
}

func (c *Coordinator) replayGroup(key, value []byte) error {
	k := kmsg.NewGroupMetadataKey()
	if err := k.ReadFrom(key); err != nil {
		return fmt.Errorf("%w: group metadata key: %w", ErrCorruptRecord, err)
	}
	if value == nil {
		if g := c.lockGroup(k.Group, false); g != nil {
			g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
			c.forgetIfUnused(g)
			g.mu.Unlock()
		}
		return nil
	}
	v := kmsg.NewGroupMetadataValue()
	if err := v.ReadFrom(value); err != nil {
		return fmt.Errorf("%w: group metadata value for group %q: %w", ErrCorruptRecord, k.Group, err)
	}
	g := c.lockGroup(k.Group, true)
	defer g.mu.Unlock()
	g.protocolType = v.ProtocolType
	g.generation = v.Generation
	g.protocol, g.leader = "", ""
	// A group stored with members was alive when the broker stopped; it
	// becomes empty now, which is when its offsets' retention starts.
	since := c.clock.Now()
	if len(v.Members) == 0 && v.CurrentStateTimestamp >= 0 {
		since = time.UnixMilli(v.CurrentStateTimestamp)
	}
	g.transition(stateEmpty, since)
	return nil
}
