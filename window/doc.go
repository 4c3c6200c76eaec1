// Package window is eddy's windowed aggregations: counts, reductions and
// aggregates of a grouped stream per key and per window of event time —
// "more than 5 card payments in a minute", page views per hour, user
// sessions. Count, Reduce, Aggregate and AggregateSessions turn a
// stream.Grouped[K, V] into a table.Table[Key[K], A] whose keys carry the
// window; Fetch reads a key's windows in a running app.
//
// # Windows
//
// Every window covers [Key.Start, Key.End) in Unix milliseconds, End
// excluded, whatever its kind:
//
//   - Tumbling(size): back-to-back windows aligned to the epoch.
//   - Hopping(size, advance): windows of size starting every advance, so a
//     record is in size/advance of them.
//   - Sliding(d): Kafka Streams' sliding windows, defined by the records:
//     [t-d, t] for each record at t, and [t+1, t+1+d] when a record follows
//     within d; each distinct set of records within d of each other is
//     aggregated once.
//   - Session(gap): records of a key no more than gap apart form a session
//     [first, last+1); a record that bridges two sessions merges them.
//
// Each takes a grace period, .Grace(d), default 0 (Kafka Streams 3's
// ofSizeWithNoGrace).
//
// # Time, closing and late records
//
// Time is event time: record timestamps. Each task's window operator keeps
// its own time: the largest of the task's stream time (the largest
// timestamp the task has seen) and, when the task is idle, the wall-clock
// extrapolation described below. It never goes back and survives restarts
// (it is stored with the windows). A window closes when that time reaches
// its End + grace; a session closes at its End + gap + grace, since until
// then a record may still extend it. A closed window is final: nothing
// changes it any more.
//
// A record is late when a window it belongs to has closed: for tumbling
// windows its one window, for hopping windows any of them (it still counts
// in the open ones), for sliding windows its own window [t-d, t] (the first
// of its windows to close; it still counts in open later ones), for
// sessions the session it alone would form, or any closed session within
// gap of it. Records with negative timestamps belong to no window and are
// late too. Late records are never dropped silently: each is counted
// (LateRecords) and handed, once, to the OnLate handlers and the LateTo
// topic. Records with a null value (tombstones) do not aggregate, as in
// package table.
//
// Idle partitions would otherwise freeze windows: with no new records, time
// stands still and the last windows never close. CloseIdleAfter(d) makes a
// task's window operator, after d of wall-clock time without records,
// advance its time with the wall clock (time of the last record + wall time
// elapsed since it arrived), checked on a wall-clock punctuation. It is on
// (1 s) under EmitFinal and off otherwise.
//
// # Emitting
//
// By default every update of a window is forwarded downstream when the
// store's cache flushes (at commit, or when the cache is full), like
// package table's aggregates, so updates between commits collapse; a
// session removed by a merge is forwarded as a tombstone. With EmitFinal,
// each window's result is forwarded exactly once, when it closes (Kafka
// Streams' suppress(untilWindowCloses)), in order of close time; a crash
// before the next commit may emit it again, as everything in eddy is
// at-least-once. Which windows are still to be emitted is kept in memory,
// not in the store: a task that opens again finds them as the stored
// windows its stored time has not closed, so the only cost of a window
// beyond its aggregate is one queued key until it closes. Forwarded records carry the timestamp of the window's
// newest record.
//
// # State
//
// A windowed aggregation keeps its windows in a store (named by Named, in
// LevelDB unless InMemory) backed by a changelog topic with
// cleanup.policy=compact,delete and retention.ms = the store's retention +
// 1 day, restored like every store at start. The store is a
// storage.Segmented: entries are keyed by the record key (length-prefixed)
// then the window's big-endian start (for sessions, the last record's
// timestamp, then the start), so one key's windows are contiguous and in
// time order, and spread over time segments of max(retention/2, 1 min),
// each its own LevelDB; windows older than the retention (Retention, by
// default what the windows need until they close) are hidden at once and
// deleted a whole segment at a time. Sliding windows also keep each record
// for the retention, to build the windows that appear after it; the
// grouped stream then needs a value serde.
//
// # What it is not
//
// Join, LeftJoin and OuterJoin join two streams over a JoinWindows window;
// see Join for closing, late records and state. It is not the
// table half of the DSL (package table, whose Lookup does not apply to
// windowed tables: use Fetch), nor the engine that runs the aggregations.
// stream/streamtest tests windowed topologies without a broker, with a
// wall clock it controls.
package window
