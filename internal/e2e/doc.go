// Package e2e tests every DSL operator end to end: each test opens a real
// embedded broker in a temporary directory, writes a few thousand random
// records (several keys, out-of-order timestamps, tombstones) to
// multi-partition input topics on the partitions Kafka's default
// partitioner picks, runs a stream.App until its committed input offsets
// reach the end of every topic it reads, stops it, reads the output topics
// back, and compares them with the result computed directly from the
// input: per input partition and output partition, in order, for stateless
// operators; the last value per key, and table.Lookup while the app runs,
// for tables. It also checks Builder.Describe and Builder.DOT against
// golden files (go test -update rewrites them) and that a restarted
// aggregation neither loses nor double counts.
//
// It holds tests only; nothing imports it. Operator-by-operator checks
// without a broker live with the synchronous driver (stream/streamtest);
// crash and power-loss behaviour lives in internal/soak.
package e2e
