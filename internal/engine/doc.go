// Package engine runs a topology: it creates the application's internal
// topics, splits the graph into tasks (one per sub-topology and input
// partition), restores each task's stores from their changelogs, feeds the
// tasks records fetched through a broker.Client, sends what they produce,
// and commits on an interval: flush store caches (writing changelog records)
// → flush produced records (and await their durability, when the client
// appends without waiting for it: broker.DeferredAppender) → await the
// durability of the repartition records read before they were durable
// (broker.WrittenFetcher: on the embedded broker a record crosses a
// repartition topic without waiting for its fsync) → commit input offsets
// → write the local checkpoint. Delivery is at-least-once.
//
// Output batches are appended when full, after Config.Linger, when their
// worker has nothing to process, or at a commit, by a writer goroutine per
// partition — except a repartition topic's on the embedded broker, which
// the worker appends itself as it seals them (no goroutine to wait for).
// The tasks writing a repartition topic are kept within
// Config.MaxTaskDrift of each other in event time (align.go).
//
// # Several instances
//
// With a client that supports group membership (broker.GroupCapable: a
// Kafka cluster's, or the embedded broker's SharedEmbedded) the engine
// joins a consumer group named after the application id, and the
// instances in it split the tasks: the group's leader assigns each task
// to one instance, balanced, sticky, preferring an instance that holds the
// task's state (assignTasks), plus Config.StandbyReplicas standby copies
// of each stateful task on other instances, which keep its stores warm by
// tailing the changelogs. Offsets are committed in the generation's name.
// When a generation ends, every worker commits and parks, the instance
// rejoins, the tasks that moved away are closed, the workers resume with
// the tasks that stayed, and the new tasks are restored (or promoted from
// a standby, replaying only the changelogs' tail) and handed to the
// workers. The group metadata (assign_wire.go documents the format) also
// carries every instance's Config.ApplicationServer, so any instance can
// say which one holds a key (StoreOwner, NotLocalError). With other
// clients one instance runs every task.
//
// An instance the group went on without (it stalled past its session
// timeout, say) must not write to the changelogs of tasks that others run
// now: each commit first asks the coordinator, with a heartbeat, whether
// this instance is still a member, and flushes nothing if not; the
// instance then drops its tasks uncommitted and rejoins. Without
// exactly-once a narrow window remains, as in Kafka Streams: a store cache
// that overflows between commits flushes without asking, and the group
// may move on between the question and the flush; records since the last
// commit can then be counted twice.
//
// It is not the DSL (packages stream, table, window) and knows nothing of
// types: records reach it as bytes and leave it as bytes.
package engine
