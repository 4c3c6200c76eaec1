// Package broker is eddy's embedded, single-node broker and the boundary
// the stream runtime sees: topics of partition logs (package broker/log)
// with Kafka's topic configs, durable topic metadata, idempotent producers
// (sequence checks, retries answered with their first offset), the
// consumer-group coordinator (package broker/group) journaling committed
// offsets to __consumer_offsets, retention and compaction on a maintenance
// tick, and the Client interface with its in-process implementation
// (Embedded, SharedEmbedded).
//
// Open a data directory with Open; serve it over the Kafka protocol with
// package broker/wire (`eddy broker`); reach a Kafka cluster instead with
// package broker/kafka, which implements the same Client. ErrorCode maps
// the errors of this package and of broker/log to Kafka error codes.
//
// It is not a cluster: one node, no replication (durability comes from
// fsync before acknowledgement; the in-process client can also append
// without waiting and await durability later, DeferredAppender, and read
// what is written before it is durable, WrittenFetcher), no transactions
// yet.
package broker
