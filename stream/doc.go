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
// # Delivery: at-least-once
//
// Each commit (every Config.CommitInterval, and at a clean stop) flushes the
// stores' caches, which writes their changelog records and forwards table
// updates; waits until every record sent so far is acknowledged durably;
// commits the input offsets; and then writes the local checkpoint. After a
// crash the app resumes from the last committed input offsets, so the
// records processed after that commit are processed again: their output
// records may appear twice and their effect on state may count twice (a
// count can end above the true count, never below). Nothing committed is
// lost, and every store equals the fold of its changelog: with a valid
// checkpoint only the changelog's tail is replayed; without one the local
// store is wiped and the whole changelog replayed. Exactly-once (a Kafka
// transaction around each commit) is not implemented yet.
//
// Output does not wait for commits: records sent to a topic are appended
// once their batch is full (256 KiB), has waited Config.Linger (100 ms),
// or its thread has nothing more to process, so downstream consumers see
// them within about that time, and at once when the app is not busy. A table's
// updates leave when its cache flushes (at each commit, or when the cache
// is full), as in Kafka Streams.
//
// # Event time across tasks
//
// Windows take the largest timestamp they have seen as their time, so a
// record reaching them more than the grace period behind it is dropped as
// late. When a key change sends records through a repartition topic, each
// of its partitions mixes the output of every task upstream; the engine
// keeps those tasks, within one instance, within Config.MaxTaskDrift of
// each other in event time (and their batches short in event time), so
// that catching up on a backlog with several threads does not make records
// late. Instances are not aligned with each other: with several, the grace
// period must cover how far apart they run.
//
// It is not the table half (package table), windows (package window), the
// engine (internal) or a broker (package broker); stream/streamtest tests
// topologies without a broker.
package stream
