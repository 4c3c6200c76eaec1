// Command streambench measures eddy's stream engine in process on the
// embedded broker: a stateless map/filter pipeline, a stateful per-key count
// (and the same count written as a goka processor against `eddy broker` over
// the Kafka protocol, in the same run), restoring a 1,000,000-key store from
// its changelog, and restarting with intact local state.
//
// The stateful count also runs through the sarama client (broker/kafka) on
// two backends, each with its input written through that client first:
// the embedded broker served over the Kafka protocol on loopback, and a real
// Apache Kafka (EDDY_KAFKA_BROKERS, else one scripts/kafka.sh starts and
// stops again). Their records/s are printed next to the in-process figure
// with the ratios.
package main
