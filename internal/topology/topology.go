package topology

import (
	"fmt"
	"sort"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/storage"
)

// Kind is what a node does.
type Kind int

const (
	Source Kind = iota
	Processor
	Sink
)

func (k Kind) String() string {
	return [...]string{"Source", "Processor", "Sink"}[k]
}

// Node is one operator of the graph.
type Node struct {
	Name     string
	Kind     Kind
	Parents  []*Node
	Children []*Node
	// Topics are a source's input topics or a sink's output topic.
	Topics []string
	// Stores names the state stores the node reads or writes.
	Stores []string
	// Build creates the source's record handler for one task, building
	// the typed processor chain below it. Set on sources only.
	Build func(tc TaskContext) (SourceFunc, error)

	subtopology int
}

// StoreSpec declares a state store.
type StoreSpec struct {
	Name string
	// Changelog is the compacted topic backing the store; empty for a
	// store without one (then its state is lost with the instance).
	Changelog string
	// InMemory selects the memory store instead of LevelDB.
	InMemory bool
	// Segmented, when set, makes the local store a storage.Segmented with
	// these options (its Name is the store's): window stores, whose old
	// entries are dropped a whole time segment at a time.
	Segmented *storage.SegmentedOptions
}

// InternalTopic is a topic the application creates for itself.
type InternalTopic struct {
	Name    string
	Configs map[string]string
	// Partitions is the count; 0 means "as many as the sub-topology that
	// writes it has tasks" (repartition topics) or "as the sub-topology
	// that owns the store" (changelogs).
	Partitions int32
	// Repartition is set for topics between sub-topologies.
	Repartition bool
}

// Topology is the whole graph of one application.
type Topology struct {
	Name           string
	Nodes          []*Node
	Stores         map[string]*StoreSpec
	InternalTopics map[string]*InternalTopic
	// Globals are the global stores (AddGlobal), read by every task.
	Globals map[string]*GlobalStore
	names   map[string]bool
}

// New returns an empty topology.
func New(name string) *Topology {
	return &Topology{Name: name, Stores: map[string]*StoreSpec{}, InternalTopics: map[string]*InternalTopic{}, names: map[string]bool{}}
}

// Add adds a node under parents, refusing duplicate names: names are what
// keep internal topics and stores stable across versions of an app.
func (t *Topology) Add(n *Node, parents ...*Node) error {
	if n.Name == "" {
		return fmt.Errorf("topology: a %v node needs a name", n.Kind)
	}
	if t.names[n.Name] {
		return fmt.Errorf("topology: two nodes are named %q; give one an explicit, different name", n.Name)
	}
	t.names[n.Name] = true
	for _, p := range parents {
		p.Children = append(p.Children, n)
		n.Parents = append(n.Parents, p)
	}
	t.Nodes = append(t.Nodes, n)
	return nil
}

// UniqueName returns prefix followed by the first free sequence number,
// for nodes the user did not name.
func (t *Topology) UniqueName(prefix string) string {
	for i := len(t.Nodes); ; i++ {
		name := fmt.Sprintf("%s-%010d", prefix, i)
		if !t.names[name] {
			return name
		}
	}
}

// AddStore declares a store, refusing duplicates.
func (t *Topology) AddStore(s *StoreSpec) error {
	if _, ok := t.Stores[s.Name]; ok {
		return fmt.Errorf("topology: two stores are named %q", s.Name)
	}
	t.Stores[s.Name] = s
	if s.Changelog != "" {
		t.InternalTopics[s.Changelog] = &InternalTopic{Name: s.Changelog, Configs: map[string]string{"cleanup.policy": "compact"}}
	}
	return nil
}

// Subtopology is a connected part of the graph: its tasks read the same
// partition number of each of its source topics.
type Subtopology struct {
	ID      int
	Nodes   []*Node
	Sources []*Node
	// Topics are the input topics, sorted.
	Topics []string
	// Stores are the stores its nodes use, sorted.
	Stores []string
}

// Subtopologies splits the graph into connected components (nodes joined
// by edges or by a shared store), numbered by their first node's position.
func (t *Topology) Subtopologies() []*Subtopology {
	parent := make(map[*Node]*Node, len(t.Nodes))
	var find func(n *Node) *Node
	find = func(n *Node) *Node {
		if parent[n] == nil || parent[n] == n {
			parent[n] = n
			return n
		}
		r := find(parent[n])
		parent[n] = r
		return r
	}
	union := func(a, b *Node) { parent[find(a)] = find(b) }
	byStore := map[string]*Node{}
	for _, n := range t.Nodes {
		find(n)
		for _, c := range n.Children {
			union(n, c)
		}
		for _, s := range n.Stores {
			if o, ok := byStore[s]; ok {
				union(n, o)
			} else {
				byStore[s] = n
			}
		}
	}
	index := map[*Node]*Subtopology{}
	var subs []*Subtopology
	for _, n := range t.Nodes {
		r := find(n)
		st, ok := index[r]
		if !ok {
			st = &Subtopology{ID: len(subs)}
			index[r] = st
			subs = append(subs, st)
		}
		n.subtopology = st.ID
		st.Nodes = append(st.Nodes, n)
		if n.Kind == Source {
			st.Sources = append(st.Sources, n)
			st.Topics = append(st.Topics, n.Topics...)
		}
		st.Stores = append(st.Stores, n.Stores...)
	}
	for _, st := range subs {
		sort.Strings(st.Topics)
		st.Stores = dedupSorted(st.Stores)
	}
	return subs
}

func dedupSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// TaskID names a task: the sub-topology and the partition it reads.
type TaskID struct {
	Subtopology int
	Partition   int32
}

func (id TaskID) String() string { return fmt.Sprintf("%d_%d", id.Subtopology, id.Partition) }

// RawRecord is a consumed record before deserialization. Key and Value
// alias the fetched batch and are valid only while the record is processed;
// a nil Value is a tombstone.
type RawRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp int64
	Key       []byte
	Value     []byte
	Headers   []batch.RecordHeader
}

// SourceFunc handles one raw record in a task: it deserializes it and runs
// the typed processors below the source.
type SourceFunc func(r *RawRecord) error

// PunctuationType says which clock drives a punctuation.
type PunctuationType int

const (
	// StreamTime punctuations fire as the task's stream time (the largest
	// record timestamp seen) passes their schedule.
	StreamTime PunctuationType = iota
	// WallClock punctuations fire on the machine's clock, even when no
	// records arrive.
	WallClock
)

// TaskContext is what a task offers the processors running in it.
type TaskContext interface {
	TaskID() TaskID
	// Store returns a state store of the task (caching in front of the
	// local store, changelogged).
	Store(name string) (storage.Store, error)
	// OnFlush registers fn to receive a store's entries each time its
	// cache flushes, in key order — how cached aggregates forward their
	// updates downstream.
	OnFlush(store string, fn func(entries []storage.Mutation) error)
	// Send writes a record to an output topic. partition -1 picks the
	// partition from the key as Kafka's default partitioner does.
	Send(topic string, partition int32, key, value []byte, timestamp int64, headers []batch.RecordHeader) error
	// Partitions returns a topic's partition count.
	Partitions(topic string) (int32, error)
	// StreamTime is the largest timestamp the task has processed.
	StreamTime() int64
	// Now is the wall clock (fake in tests). While a worker processes a
	// round of a task's records it is the time the round began: the clock
	// is read once per round, not once per record.
	Now() time.Time
	// Schedule calls fn every interval on the given clock.
	Schedule(interval time.Duration, kind PunctuationType, fn func(timestamp int64) error)
	// Current returns the input record being processed, or nil inside a
	// punctuation or a cache flush.
	Current() *RawRecord
	// Memo returns the value built for key in this task, building it on
	// first use, so a node reached from several parents (a merge) is
	// instantiated once per task.
	Memo(key any, build func() (any, error)) (any, error)
	// OnClose registers fn to run when the task closes, newest first,
	// after the task's final commit and before its stores close: custom
	// processors release their resources there. fn must not write stores
	// or send records (nothing commits them any more).
	OnClose(fn func() error)
}

// DeserializeError reports a record whose key or value the source's serde
// could not read; the engine hands it to the deserialization handler.
type DeserializeError struct {
	Part string // "key" or "value"
	Err  error
}

func (e *DeserializeError) Error() string {
	return "cannot deserialize record " + e.Part + ": " + e.Err.Error()
}
func (e *DeserializeError) Unwrap() error { return e.Err }

// UpstreamTopics returns the topics of the sources that feed n.
func (n *Node) UpstreamTopics() map[string]bool {
	topics := map[string]bool{}
	seen := map[*Node]bool{}
	var walk func(n *Node)
	walk = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == Source {
			for _, t := range n.Topics {
				topics[t] = true
			}
		}
		for _, p := range n.Parents {
			walk(p)
		}
	}
	walk(n)
	return topics
}
