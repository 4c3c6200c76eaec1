package kafka_test

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// BenchmarkAppendFetch appends batches of 1,000 records of 100 bytes
// (acks=all, idempotent) and fetches them back, reporting records per
// second each way, with the sarama client against the embedded broker over
// the Kafka protocol and against Apache Kafka.
func BenchmarkAppendFetch(b *testing.B) {
	for _, backend := range []string{"wire", "kafka"} {
		b.Run(backend, func(b *testing.B) {
			var addr string
			if backend == "wire" {
				_, addr = wireBroker(b)
			} else {
				addr = kafkaAddr(b)
			}
			c := newClient(b, addr)
			defer c.Close()
			ctx := context.Background()
			topic := "bench-" + backend + time.Now().Format("150405.000000")
			if err := c.CreateTopics(ctx, broker.TopicSpec{Name: topic, Partitions: 1}); err != nil {
				b.Fatal(err)
			}
			const per = 1000
			bb := batch.NewBuilder(batch.BuilderOptions{})
			value := make([]byte, 100)
			for i := 0; i < per; i++ {
				bb.Add(batch.Record{Value: value, Timestamp: 1_700_000_000_000})
			}
			data, err := bb.Build(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := c.Append(ctx, topic, 0, data); err != nil {
					b.Fatal(err)
				}
			}
			appendTook := time.Since(start)
			start = time.Now()
			var next int64
			for next < int64(b.N*per) {
				res, err := c.Fetch(ctx, topic, 0, next, 1<<20, time.Second)
				if err != nil {
					b.Fatal(err)
				}
				for rest := res.Batches; len(rest) > 0; {
					one, r, err := batch.Next(rest)
					if err != nil {
						b.Fatal(err)
					}
					h, _ := batch.ParseHeader(one)
					next = h.LastOffset() + 1
					rest = r
				}
			}
			b.ReportMetric(float64(b.N*per)/appendTook.Seconds(), "append-rec/s")
			b.ReportMetric(float64(b.N*per)/time.Since(start).Seconds(), "fetch-rec/s")
		})
	}
}
