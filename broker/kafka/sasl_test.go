package kafka_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/kafka"
)

// kafkaSASL returns the SASL_PLAINTEXT listener of the test Kafka and its
// user: the one scripts/kafka.sh configures, or, for a cluster named by
// EDDY_KAFKA_BROKERS, the one EDDY_KAFKA_SASL_BROKERS names.
func kafkaSASL(t *testing.T) (addr, user, password string) {
	t.Helper()
	if v := os.Getenv("EDDY_KAFKA_SASL_BROKERS"); v != "" {
		return v, os.Getenv(kafka.EnvSASLUser), os.Getenv(kafka.EnvSASLPassword)
	}
	if os.Getenv(kafka.EnvBrokers) != "" {
		t.Fatalf("%s names an external cluster: set EDDY_KAFKA_SASL_BROKERS, %s and %s to its SASL listener and a user allowed PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512",
			kafka.EnvBrokers, kafka.EnvSASLUser, kafka.EnvSASLPassword)
	}
	kafkaAddr(t)
	port := os.Getenv("EDDY_KAFKA_SASL_PORT")
	if port == "" {
		port = "19094"
	}
	return "127.0.0.1:" + port, "eddy", "eddy-secret" // as scripts/kafka.sh sets them
}

// TestSASL connects to Apache Kafka's SASL listener with each mechanism,
// appends and reads back; a wrong password fails New with an
// authentication error.
func TestSASL(t *testing.T) {
	addr, user, password := kafkaSASL(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			ctx := context.Background()
			c, err := kafka.New(kafka.Config{Brokers: []string{addr}, SASL: kafka.SASL{Mechanism: mech, User: user, Password: password}, Logger: quietLogger()})
			if err != nil {
				t.Fatalf("connect with %s to %s: %v (a Kafka started before its SASL listener existed needs `make kafka-down kafka-up`)", mech, addr, err)
			}
			defer c.Close()
			topic := uniqueName(t, "sasl")
			if err := c.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			b := batch.NewBuilder(batch.BuilderOptions{})
			b.Add(batch.Record{Key: []byte(mech), Value: []byte("over SASL"), Timestamp: time.Now().UnixMilli()})
			data, _ := b.Build(nil)
			if _, err := c.Append(ctx, topic, 0, data); err != nil {
				t.Fatal(err)
			}
			res, err := c.Fetch(ctx, topic, 0, 0, 1<<20, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			it, err := batch.NewIterator(res.Batches)
			if err != nil || !it.Next() || string(it.Record().Key) != mech {
				t.Fatalf("read back over %s: %v", mech, err)
			}

			_, err = kafka.New(kafka.Config{Brokers: []string{addr}, SASL: kafka.SASL{Mechanism: mech, User: user, Password: "wrong"}, ConnectTimeout: 5 * time.Second, Logger: quietLogger()})
			if !errors.Is(err, kafka.ErrAuthentication) || !strings.Contains(err.Error(), addr) {
				t.Fatalf("wrong password with %s: %v, want ErrAuthentication naming %s", mech, err, addr)
			}
		})
	}
}
