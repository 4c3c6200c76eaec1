package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/topology"
)

// plan is the topology laid out on real topics: how many tasks each
// sub-topology has, and every internal topic created with its count.
type plan struct {
	subs       []*topology.Subtopology
	tasks      map[int]int32             // sub-topology → partitions (tasks)
	partitions map[string]int32          // every input, output and internal topic known so far
	storeSub   map[string]int            // store → owning sub-topology
	changelogs map[string]string         // store → changelog topic ("" for none)
	sourceOf   map[string]*topology.Node // input topic → source node
}

// ErrCopartition reports input topics of one sub-topology whose partition
// counts differ, so records with equal keys could not meet in one task.
var ErrCopartition = errors.New("engine: input topics are not co-partitioned")

// makePlan resolves partition counts and creates internal topics:
// repartition topics get as many partitions as the sub-topology writing them
// has tasks (unless set), changelogs as many as the owning sub-topology.
func makePlan(ctx context.Context, topo *topology.Topology, client broker.Client) (*plan, error) {
	p, specs, err := layoutPlan(topo, func(topic string) (int32, error) {
		n, err := client.Partitions(ctx, topic)
		if err != nil {
			return 0, fmt.Errorf("engine: input topic %s: %w", topic, err)
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	if len(specs) > 0 {
		if err := client.CreateTopics(ctx, specs...); err != nil {
			return nil, fmt.Errorf("engine: create internal topics: %w", err)
		}
	}
	return p, nil
}

// layoutPlan resolves partition counts, asking partitionsOf for those of
// non-internal input topics, and returns the plan with the internal topics
// it needs.
func layoutPlan(topo *topology.Topology, partitionsOf func(topic string) (int32, error)) (*plan, []broker.TopicSpec, error) {
	p := &plan{subs: topo.Subtopologies(), tasks: map[int]int32{}, partitions: map[string]int32{},
		storeSub: map[string]int{}, changelogs: map[string]string{}, sourceOf: map[string]*topology.Node{}}
	writer := map[string]int{} // internal topic → sub-topology writing it
	for _, st := range p.subs {
		for _, n := range st.Nodes {
			if n.Kind == topology.Sink {
				for _, t := range n.Topics {
					writer[t] = st.ID
				}
			}
			if n.Kind == topology.Source {
				for _, t := range n.Topics {
					if prev, dup := p.sourceOf[t]; dup {
						return nil, nil, fmt.Errorf("engine: topic %s is read by two sources, %s and %s", t, prev.Name, n.Name)
					}
					p.sourceOf[t] = n
				}
			}
		}
	}
	for _, st := range p.subs {
		var counts, sizedHere []string
		var n int32
		differ := false
		for _, t := range st.Topics {
			if it, ok := topo.InternalTopics[t]; ok && it.Partitions == topology.PartitionsOfReader {
				sizedHere = append(sizedHere, t) // takes n, whatever it is
				continue
			}
			c, err := p.topicPartitions(topo, partitionsOf, t)
			if err != nil {
				return nil, nil, err
			}
			differ = differ || (n != 0 && c != n)
			n = max(n, c)
			counts = append(counts, fmt.Sprintf("%s has %d", t, c))
		}
		if differ {
			return nil, nil, fmt.Errorf("%w in sub-topology %d: %s; repartition one side or give them equal partition counts",
				ErrCopartition, st.ID, strings.Join(counts, ", "))
		}
		if n == 0 && len(st.Topics) > 0 {
			return nil, nil, fmt.Errorf("engine: sub-topology %d has no partitions", st.ID)
		}
		p.tasks[st.ID] = n
		for _, t := range sizedHere {
			p.partitions[t] = n
		}
		// Repartition topics this sub-topology writes take its task count.
		for t, w := range writer {
			it, ok := topo.InternalTopics[t]
			if w == st.ID && ok && it.Repartition && it.Partitions != topology.PartitionsOfReader {
				if it.Partitions <= 0 {
					p.partitions[t] = n
				} else {
					p.partitions[t] = it.Partitions
				}
			}
		}
		for _, s := range st.Stores {
			p.storeSub[s] = st.ID
			spec := topo.Stores[s]
			if spec == nil {
				return nil, nil, fmt.Errorf("engine: store %s is used but not declared", s)
			}
			p.changelogs[s] = spec.Changelog
			if spec.Changelog != "" {
				p.partitions[spec.Changelog] = n
			}
		}
	}
	var specs []broker.TopicSpec
	names := make([]string, 0, len(topo.InternalTopics))
	for name := range topo.InternalTopics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		it := topo.InternalTopics[name]
		n, ok := p.partitions[name]
		if !ok {
			return nil, nil, fmt.Errorf("engine: no sub-topology writes internal topic %s", name)
		}
		specs = append(specs, broker.TopicSpec{Name: name, Partitions: n, ReplicationFactor: -1, Configs: it.Configs})
	}
	return p, specs, nil
}

// topicPartitions returns a topic's partition count: for internal
// repartition topics the count decided when their writer was planned (the
// DSL adds writers before readers), for others the broker's.
func (p *plan) topicPartitions(topo *topology.Topology, partitionsOf func(string) (int32, error), topic string) (int32, error) {
	if n, ok := p.partitions[topic]; ok {
		return n, nil
	}
	if it, ok := topo.InternalTopics[topic]; ok && it.Repartition {
		return 0, fmt.Errorf("engine: repartition topic %s is read before it is written", topic)
	}
	n, err := partitionsOf(topic)
	if err != nil {
		return 0, err
	}
	p.partitions[topic] = n
	return n, nil
}

// taskIDs lists every task of the plan.
func (p *plan) taskIDs() []topology.TaskID {
	var ids []topology.TaskID
	for _, st := range p.subs {
		for i := int32(0); i < p.tasks[st.ID]; i++ {
			ids = append(ids, topology.TaskID{Subtopology: st.ID, Partition: i})
		}
	}
	return ids
}
