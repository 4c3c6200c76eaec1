// Package partition chooses the partition of a keyed record exactly as
// Kafka's default partitioner does, so that records eddy writes land where
// the Java client, librdkafka's murmur2_random partitioner, franz-go's
// StickyKeyPartitioner and sarama's Murmur2 partitioner would put them, and
// eddy apps can share co-partitioned topics with apps built on those
// clients.
//
// The rule, from the Java client:
//
//	partition = (murmur2(keyBytes) & 0x7fffffff) % numPartitions
//
// where murmur2 is MurmurHash2 (32-bit, seed 0x9747b28c) over the serialized
// key, read as little-endian 4-byte words, and the result is taken as a
// signed 32-bit integer. The mask clears the sign bit rather than taking an
// absolute value, so a hash of math.MinInt32 maps to partition 0 instead of
// overflowing. These constants and steps are part of Kafka's compatibility
// contract and never change.
//
// This package is not a partitioner with state: keyless records (null key)
// are the engine's business, which spreads them round-robin or stickily; an
// empty, non-nil key is a key like any other and is hashed. It knows nothing
// of topics, metadata or partition availability.
package partition
