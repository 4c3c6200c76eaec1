package group

import (
	"cmp"
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchTopic is one topic of an OffsetFetch, named by name or (v10+) by ID.
type fetchTopic struct {
	name       string
	id         [16]byte
	code       int16
	partitions []fetchPartition
}

type fetchPartition struct {
	partition int32
	entry     offsetEntry
	found     bool
}

// OffsetFetch returns committed offsets: -1 for partitions without one, and
// every committed partition when the topic list is null (v2+). From v8 it
// answers for several groups at once. RequireStable (v7+) needs nothing
// here: offsets are applied only once durable, and transactional commits
// do not go through this coordinator.
func (c *Coordinator) OffsetFetch(_ context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = req.Version
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var want []fetchTopic
			if rg.Topics != nil {
				want = make([]fetchTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					want = append(want, c.wantTopic(req.Version, t.Topic, t.TopicID, t.Partitions))
				}
			}
			code, topics := c.fetchOffsets(rg.Group, want, req.Version)
			gr := kmsg.NewOffsetFetchResponseGroup()
			gr.Group = rg.Group
			gr.ErrorCode = code
			gr.Topics = groupTopicsResponse(topics, req.Version)
			resp.Groups = append(resp.Groups, gr)
		}
		return resp
	}

	var want []fetchTopic
	if req.Topics != nil || req.Version < 2 {
		want = make([]fetchTopic, 0, len(req.Topics))
		for _, t := range req.Topics {
			want = append(want, c.wantTopic(req.Version, t.Topic, [16]byte{}, t.Partitions))
		}
	}
	code, topics := c.fetchOffsets(req.Group, want, req.Version)
	if req.Version >= 2 {
		resp.ErrorCode = code
	} else if code != 0 {
		// v0 and v1 have no group-level error; each partition carries it.
		for i := range topics {
			topics[i].code = code
		}
	}
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.name
		for _, p := range t.partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition = p.partition
			rp.ErrorCode = t.code
			fillFetched(p, &rp.Offset, &rp.LeaderEpoch, &rp.Metadata)
			if req.Version < 5 {
				rp.LeaderEpoch = -1
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (c *Coordinator) wantTopic(version int16, name string, id [16]byte, partitions []int32) fetchTopic {
	t := fetchTopic{name: name, id: id}
	if version >= 10 {
		t.name, t.code = c.resolveTopic(version, "", id)
	}
	for _, p := range partitions {
		t.partitions = append(t.partitions, fetchPartition{partition: p})
	}
	return t
}

// fetchOffsets fills want from the group's offsets, or lists them all when
// want is nil. An unknown group has no offsets, which is not an error.
func (c *Coordinator) fetchOffsets(name string, want []fetchTopic, version int16) (int16, []fetchTopic) {
	if c.closed.Load() {
		return kerr.CoordinatorNotAvailable.Code, want
	}
	if name == "" {
		return kerr.InvalidGroupID.Code, want
	}
	g := c.lockGroup(name, false)
	if g == nil {
		return 0, want
	}
	defer g.mu.Unlock()
	if want == nil {
		return 0, c.allOffsets(g, version)
	}
	for i := range want {
		t := &want[i]
		if t.code != 0 {
			continue
		}
		for j := range t.partitions {
			p := &t.partitions[j]
			p.entry, p.found = g.offsets[topicPartition{topic: t.name, partition: p.partition}]
		}
	}
	return 0, want
}

func (c *Coordinator) allOffsets(g *group, version int16) []fetchTopic {
	byTopic := make(map[string]*fetchTopic)
	var topics []*fetchTopic
	for tp, e := range g.offsets {
		t := byTopic[tp.topic]
		if t == nil {
			t = &fetchTopic{name: tp.topic}
			if version >= 10 {
				id, ok := c.topicID(tp.topic)
				if !ok {
					continue // a topic without an ID cannot be named in v10+
				}
				t.id = id
			}
			byTopic[tp.topic] = t
			topics = append(topics, t)
		}
		t.partitions = append(t.partitions, fetchPartition{partition: tp.partition, entry: e, found: true})
	}
	slices.SortFunc(topics, func(a, b *fetchTopic) int { return cmp.Compare(a.name, b.name) })
	out := make([]fetchTopic, len(topics))
	for i, t := range topics {
		slices.SortFunc(t.partitions, func(a, b fetchPartition) int { return cmp.Compare(a.partition, b.partition) })
		out[i] = *t
	}
	return out
}

func (c *Coordinator) topicID(name string) ([16]byte, bool) {
	if c.cfg.Topics == nil {
		return [16]byte{}, false
	}
	return c.cfg.Topics.TopicID(name)
}

func groupTopicsResponse(topics []fetchTopic, version int16) []kmsg.OffsetFetchResponseGroupTopic {
	out := make([]kmsg.OffsetFetchResponseGroupTopic, 0, len(topics))
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		if version >= 10 {
			rt.TopicID = t.id
		} else {
			rt.Topic = t.name
		}
		for _, p := range t.partitions {
			rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			rp.Partition = p.partition
			rp.ErrorCode = t.code
			fillFetched(p, &rp.Offset, &rp.LeaderEpoch, &rp.Metadata)
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}

func fillFetched(p fetchPartition, offset *int64, epoch *int32, metadata **string) {
	if !p.found {
		*offset, *epoch = -1, -1
		empty := ""
		*metadata = &empty
		return
	}
	md := p.entry.metadata
	*offset, *epoch, *metadata = p.entry.offset, p.entry.leaderEpoch, &md
}
