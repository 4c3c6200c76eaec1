// Package clienttest is a conformance suite for broker.Client: the same
// tests run against every implementation, so the embedded broker in
// process, the sarama client over the embedded broker's Kafka protocol
// listener and the sarama client over Apache Kafka are held to one
// behaviour.
//
//	func TestConformance(t *testing.T) {
//		clienttest.Run(t, func(t *testing.T) broker.Client { return newClient(t) })
//	}
//
// Run covers topic creation (existing topics, partition mismatches),
// partition counts, append and fetch (offsets, keys, values, headers,
// timestamps, tombstones, several batches per append, every codec), the
// fetch long poll (data arriving, timeout, cancellation), list offsets by
// time, committed offsets, the errors callers rely on (unknown topic or
// partition, offset out of range, corrupt batches) and concurrent appends.
// Topic and group names carry a random prefix, so the suite can run again
// against a long-lived cluster.
//
// Two helpers serve the other packages' tests: OpenBroker opens an
// embedded broker on a test's temporary directory, and ReadAll reads back
// a topic partition, checking every batch. It is not a place for fakes:
// the tests using it run on the real broker on disk.
package clienttest
