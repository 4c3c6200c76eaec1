package engine

import (
	"testing"

	"github.com/eddy-streams/eddy/internal/topology"
)

// Topics sized by their reader (topology.PartitionsOfReader) take the
// reading sub-topology's task count, whichever of writer and reader is
// laid out first, and never decide that count themselves: with two such
// topics crossing between two sub-topologies of different counts (a
// foreign-key join's subscription and response topics), each gets its
// reader's.
func TestPlanSizesTopicsByTheirReader(t *testing.T) {
	topo := topology.New("app")
	add := func(n *topology.Node, parents ...*topology.Node) *topology.Node {
		if err := topo.Add(n, parents...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, name := range []string{"to-right", "to-left"} {
		topo.InternalTopics[name] = &topology.InternalTopic{Name: name, Partitions: topology.PartitionsOfReader, Repartition: true}
	}
	// Sub-topology 0 reads "left" (3 partitions) and "to-left", writes
	// "to-right"; sub-topology 1 reads "right" (5) and "to-right", writes
	// "to-left".
	l := add(&topology.Node{Name: "left-src", Kind: topology.Source, Topics: []string{"left", "to-left"}})
	add(&topology.Node{Name: "left-sink", Kind: topology.Sink, Topics: []string{"to-right"}}, l)
	r := add(&topology.Node{Name: "right-src", Kind: topology.Source, Topics: []string{"right", "to-right"}})
	add(&topology.Node{Name: "right-sink", Kind: topology.Sink, Topics: []string{"to-left"}}, r)

	p, specs, err := layoutPlan(topo, func(topic string) (int32, error) {
		return map[string]int32{"left": 3, "right": 5}[topic], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.tasks[0] != 3 || p.tasks[1] != 5 {
		t.Fatalf("tasks %v, want 3 and 5", p.tasks)
	}
	created := map[string]int32{}
	for _, s := range specs {
		created[s.Name] = s.Partitions
	}
	if created["to-left"] != 3 || created["to-right"] != 5 || len(created) != 2 {
		t.Fatalf("internal topics %v, want to-left with 3 partitions and to-right with 5", created)
	}
}
