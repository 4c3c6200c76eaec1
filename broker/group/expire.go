package group

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolType is the protocol type of Kafka consumers, the only one
// whose member metadata names the subscribed topics.
const consumerProtocolType = "consumer"

// armRetentionSweep schedules the next offsets expiry pass. The caller
// holds c.mu, which orders the re-arm against Close.
func (c *Coordinator) armRetentionSweep() {
	if c.closed.Load() {
		return
	}
	c.sweepTimer = c.clock.AfterFunc(c.cfg.OffsetsRetentionCheck, func() {
		if c.closed.Load() {
			return
		}
		c.expireOffsets()
		c.mu.Lock()
		c.armRetentionSweep()
		c.mu.Unlock()
	})
}

// expireOffsets applies offsets retention to every group and removes groups
// left with neither members nor offsets, as Kafka's periodic cleanup does.
func (c *Coordinator) expireOffsets() {
	now := c.clock.Now()
	for _, g := range c.snapshotGroups() {
		c.expireGroup(g, now)
	}
}

func (c *Coordinator) expireGroup(g *group, now time.Time) {
	g.journalMu.Lock()
	defer g.journalMu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == stateDead {
		return
	}
	expired := g.expiredOffsets(now, c.cfg.OffsetsRetention)
	drop := g.state == stateEmpty && len(g.pending) == 0 && len(expired) == len(g.offsets)
	if len(expired) == 0 && !drop {
		return
	}
	records := offsetTombstones(g.name, slices.Clone(expired))
	if drop {
		records = append(records, groupTombstone(g.name))
	}
	// mu stays held: a member joining mid-append must not find itself in
	// a group being deleted, and expiry is rare enough that briefly
	// delaying a stable group's heartbeats does not matter.
	if err := c.append(records); err != nil {
		c.log.Error("expired offsets not journaled", "group", g.name, "err", err)
		return
	}
	for _, tp := range expired {
		delete(g.offsets, tp)
	}
	c.log.Info("offsets expired", "group", g.name, "partitions", len(expired), "group_removed", drop)
	if drop {
		c.markDead(g)
	}
}

// expiredOffsets follows Kafka's rules: offsets of an empty consumer group
// expire together, retention counted from when it became empty; offsets of
// a group that only commits expire one by one from their commit; a stable
// consumer group loses the offsets of topics it no longer subscribes to.
func (g *group) expiredOffsets(now time.Time, retention time.Duration) []topicPartition {
	var base func(offsetEntry) time.Time
	var eligible func(topicPartition) bool
	switch {
	case g.state == stateEmpty && g.protocolType != "":
		base = func(offsetEntry) time.Time { return g.stateSince }
	case g.state == stateEmpty:
		base = func(e offsetEntry) time.Time { return e.committed }
	case g.state == stateStable && g.protocolType == consumerProtocolType:
		subscribed := g.subscribedTo()
		base = func(e offsetEntry) time.Time { return e.committed }
		eligible = func(tp topicPartition) bool { return !subscribed(tp.topic) }
	default:
		return nil
	}
	var out []topicPartition
	for tp, e := range g.offsets {
		if eligible != nil && !eligible(tp) {
			continue
		}
		if !e.expires.IsZero() {
			if !now.Before(e.expires) {
				out = append(out, tp)
			}
			continue
		}
		if now.Sub(base(e)) >= retention {
			out = append(out, tp)
		}
	}
	return out
}

// subscribedTo reports which topics the members of a consumer group
// subscribe to, read from their protocol metadata. Metadata that does not
// decode counts as subscribed to everything, the safe answer for callers
// that are about to delete offsets.
func (g *group) subscribedTo() func(topic string) bool {
	topics := make(map[string]bool)
	for _, m := range g.members {
		meta := m.metadataFor(g.protocol)
		if meta == nil && len(m.protocols) > 0 {
			meta = m.protocols[0].metadata
		}
		var cm kmsg.ConsumerMemberMetadata
		if err := cm.ReadFrom(meta); err != nil {
			return func(string) bool { return true }
		}
		for _, t := range cm.Topics {
			topics[t] = true
		}
	}
	return func(topic string) bool { return topics[topic] }
}
