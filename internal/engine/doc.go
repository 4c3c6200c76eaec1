// Package engine runs a topology: it creates the application's internal
// topics, splits the graph into tasks (one per sub-topology and input
// partition), restores each task's stores from their changelogs, feeds the
// tasks records fetched through a broker.Client, sends what they produce,
// and commits on an interval: flush store caches (writing changelog records)
// → flush produced records → commit input offsets → write the local
// checkpoint. Delivery is at-least-once.
//
// It is not the DSL (packages stream, table, window) and knows nothing of
// types: records reach it as bytes and leave it as bytes.
package engine
