// Package topology is the untyped graph that eddy's typed DSL builds and its
// engine runs: source, processor and sink nodes, the state stores they use,
// the internal topics between them, and the sub-topologies the graph splits
// into at repartition topics. It also defines the per-task services
// (TaskContext) that the DSL's processors call at run time.
//
// It is not the DSL (package stream) and it runs nothing (package
// internal/engine does). Types and values cross it untyped, as bytes and
// closures, so that the typed layer keeps its generics to itself.
package topology
