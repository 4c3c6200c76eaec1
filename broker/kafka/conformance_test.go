package kafka_test

import (
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/clienttest"
)

// TestConformanceWire runs the broker.Client suite with the sarama client
// against the embedded broker over the Kafka protocol.
func TestConformanceWire(t *testing.T) {
	_, addr := wireBroker(t)
	clienttest.Run(t, func(t *testing.T) broker.Client { return newClient(t, addr) })
}

// TestConformanceKafka runs the suite with the sarama client against
// Apache Kafka.
func TestConformanceKafka(t *testing.T) {
	addr := kafkaAddr(t)
	clienttest.Run(t, func(t *testing.T) broker.Client { return newClient(t, addr) })
}
