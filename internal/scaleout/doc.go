// Package scaleout tests several instances of one stream app, each a
// process of its own, sharing the app's tasks through the consumer-group
// protocol: an embedded broker in the test process serves the Kafka
// protocol, and each instance reaches it with the sarama client
// (broker/kafka). The tests count records with three and then four
// instances, kill one with SIGKILL, and check that its tasks move to the
// others, which restore them from their changelogs (or promote their
// standby replicas) and go on, with every input record counted at least
// once and those committed before the kill exactly once. They report how
// long the failover took with and without a standby replica.
//
// It is test code only: nothing here is imported.
package scaleout
