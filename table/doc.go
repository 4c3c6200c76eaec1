// Package table is eddy's table half of the DSL: a Table[K, V] is the
// latest value per key, kept in a state store backed by a compacted
// changelog topic. Tables come from aggregating a grouped stream (Count,
// Reduce, Aggregate) or from reading a topic (From); they can be filtered,
// mapped, turned back into a stream of updates (ToStream), and queried while
// the app runs (Lookup, Range).
//
// Joins: a stream with a table (JoinStream, LeftJoinStream: each stream
// record looks up the table's current value), two tables (Join, LeftJoin,
// OuterJoin, materialized and queryable), a table with another on a foreign
// key (JoinForeignKey, LeftJoinForeignKey), and a stream with a global table
// (Global, JoinGlobal, LeftJoinGlobal: every task holds every partition of
// the topic). Inputs must be co-partitioned; a stream re-keyed before a join
// is repartitioned automatically.
//
// Updates of a table are forwarded downstream when its store's cache is
// flushed (on commit, or when the cache is full), so repeated updates of one
// key between commits leave as one — Kafka Streams' record caches. It is not
// the stream half (package stream) nor windows (package window).
package table
