// Package stream is the stream half of eddy's DSL: typed, unbounded streams
// of keyed records read from topics, transformed with Filter, Map,
// MapValues, FlatMap, SelectKey, Split, Merge and custom processors
// (Process), grouped (GroupBy, GroupByKey) for the aggregations of packages
// table and window, and written back to topics (To). An App binds a
// topology to a backend — the embedded broker in process, or a Kafka
// cluster — and runs it: one task per input partition, state in local
// stores backed by changelog topics, commits on an interval (at-least-once).
//
// Operations that keep the record types are methods (Filter, Peek, Merge,
// To); operations that change them are functions (Map, GroupBy), since Go
// methods cannot add type parameters. Serdes are values passed where a
// topic is read or written. Operations that create internal topics or
// stores take a name (Named): it is those topics' and stores' name, and must
// stay the same across versions of an app.
//
// It is not the table half (package table), windows (package window), the
// engine (internal) or a broker (package broker); stream/streamtest tests
// topologies without a broker.
package stream
