package topology

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Describe returns the topology as text, in the shape of Kafka Streams'
// TopologyDescription: one block per sub-topology, one line per node with
// its topics or stores and its successors.
func (t *Topology) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Topology: %s\n", t.Name)
	for _, st := range t.Subtopologies() {
		fmt.Fprintf(&b, "  Sub-topology: %d\n", st.ID)
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "    %s: %s", n.Kind, n.Name)
			switch {
			case n.Kind == Source:
				fmt.Fprintf(&b, " (topics: [%s])", strings.Join(n.Topics, ", "))
			case n.Kind == Sink:
				fmt.Fprintf(&b, " (topic: %s)", strings.Join(n.Topics, ", "))
			case len(n.Stores) > 0:
				fmt.Fprintf(&b, " (stores: [%s])", strings.Join(n.Stores, ", "))
			}
			fmt.Fprintf(&b, "\n      --> %s\n", nodeNames(n.Children))
			if len(n.Parents) > 0 {
				fmt.Fprintf(&b, "      <-- %s\n", nodeNames(n.Parents))
			}
		}
	}
	return b.String()
}

func nodeNames(ns []*Node) string {
	if len(ns) == 0 {
		return "none"
	}
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.Name
	}
	return strings.Join(names, ", ")
}

// DOT returns the topology as a Graphviz digraph: topics as ellipses,
// nodes as boxes grouped by sub-topology, stores as cylinders.
func (t *Topology) DOT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  rankdir=LR;\n", t.Name)
	topics := map[string]bool{}
	stores := map[string]bool{}
	for _, st := range t.Subtopologies() {
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=\"sub-topology %d\";\n", st.ID, st.ID)
		for _, n := range st.Nodes {
			fmt.Fprintf(&b, "    %q [shape=box];\n", n.Name)
		}
		b.WriteString("  }\n")
		for _, n := range st.Nodes {
			for _, c := range n.Children {
				fmt.Fprintf(&b, "  %q -> %q;\n", n.Name, c.Name)
			}
			for _, topic := range n.Topics {
				topics[topic] = true
				if n.Kind == Source {
					fmt.Fprintf(&b, "  %q -> %q;\n", "topic:"+topic, n.Name)
				} else {
					fmt.Fprintf(&b, "  %q -> %q;\n", n.Name, "topic:"+topic)
				}
			}
			for _, s := range n.Stores {
				stores[s] = true
				fmt.Fprintf(&b, "  %q -> %q [dir=both, style=dashed];\n", n.Name, "store:"+s)
			}
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(topics)) {
		fmt.Fprintf(&b, "  %q [shape=ellipse, label=%q];\n", "topic:"+topic, topic)
	}
	for _, s := range slices.Sorted(maps.Keys(stores)) {
		fmt.Fprintf(&b, "  %q [shape=cylinder, label=%q];\n", "store:"+s, s)
	}
	b.WriteString("}\n")
	return b.String()
}
