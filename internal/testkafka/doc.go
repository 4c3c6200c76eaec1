// Package testkafka gives eddy's tests and benchmarks the two Kafka-speaking
// brokers they run against: an embedded broker served over the Kafka
// protocol on 127.0.0.1 (Serve), and a real Apache Kafka (Addr: the one
// EDDY_KAFKA_BROKERS names, one scripts/kafka.sh reports running, or one it
// starts, stopped again by Stop if this process started it).
//
// It is test support only; nothing in eddy's library imports it.
package testkafka
