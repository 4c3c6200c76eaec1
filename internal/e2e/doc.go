// Package e2e tests every DSL operator end to end: each test opens a real
// broker, writes a few thousand random
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
// EDDY_E2E_BACKEND chooses the broker, and the same tests run on each:
// "embedded" (the default) opens an embedded broker per test in a
// temporary directory and reaches it in process; "wire" serves such a
// broker over the Kafka protocol on 127.0.0.1 and reaches it through the
// sarama-backed client (broker/kafka); "kafka" reaches Apache Kafka at
// EDDY_KAFKA_BROKERS through that client, or one scripts/kafka.sh starts
// (and TestMain stops). Tests write input, read output and check commits
// only through the broker.Client their app uses, and name topics and
// apps by short names that the cluster prefixes with the test's name and
// a random id, since one Kafka serves every test of every run.
//
// It holds tests only; nothing imports it. Operator-by-operator checks
// without a broker live with the synchronous driver (stream/streamtest);
// crash and power-loss behaviour lives in internal/soak.
package e2e
