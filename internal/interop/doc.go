// Package interop tests eddy's embedded broker with real Kafka clients:
// sarama, franz-go, kcat (librdkafka), kafka-python, kafkajs and goka. Each
// test starts its own broker on a free loopback port with its data on a real
// disk. It is test code only: nothing imports it.
package interop
