package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/internal/partition"
)

func main() {
	dir := flag.String("dir", "./.cache/streambench", "scratch directory")
	records := flag.Int("records", 2_000_000, "input records")
	keys := flag.Int("keys", 10_000, "distinct keys in the input")
	parts := flag.Int("partitions", 4, "input partitions")
	restoreKeys := flag.Int("restore-keys", 1_000_000, "keys in the restore benchmark's store")
	skipGoka := flag.Bool("skip-goka", false, "do not run the goka peer")
	o := saramaOptions{}
	flag.IntVar(&o.records, "sarama-records", 500_000, "input records of the counts through the sarama client")
	flag.BoolVar(&o.skipWire, "skip-wire", false, "do not run the count through sarama on the embedded broker")
	flag.BoolVar(&o.skipKafka, "skip-kafka", false, "do not run the count through sarama on Apache Kafka")
	flag.StringVar(&o.kafkaScript, "kafka-script", "./scripts/kafka.sh", "script that starts Apache Kafka when "+kafka.EnvBrokers+" is unset")
	flag.Parse()
	if err := run(*dir, *records, *keys, int32(*parts), *restoreKeys, *skipGoka, o); err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

func run(dir string, records, keys int, parts int32, restoreKeys int, skipGoka bool, o saramaOptions) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		return err
	}
	defer br.Close()
	client := br.Embedded()
	ctx := context.Background()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "input", Partitions: parts}); err != nil {
		return err
	}
	t0 := time.Now()
	if err := fill(ctx, client, "input", records, keys, parts); err != nil {
		return err
	}
	fmt.Printf("input: %d records of ~100 B over %d keys in %d partitions (written in %v)\n\n", records, keys, parts, time.Since(t0).Round(time.Millisecond))

	stateless, err := runStateless(ctx, client, dir, records)
	if err != nil {
		return err
	}
	fmt.Printf("stateless map/filter pipeline (in process): %10.0f records/s\n", stateless)
	count, err := runCount(ctx, client, dir, records, "bench-count", "input")
	if err != nil {
		return err
	}
	fmt.Printf("stateful count (in process):                %10.0f records/s\n", count)
	if !skipGoka {
		g, err := runGoka(br, dir, records, keys)
		if err != nil {
			return fmt.Errorf("goka peer: %w", err)
		}
		fmt.Printf("goka per-key count (eddy broker, Kafka protocol over loopback): %10.0f records/s\n", g)
		fmt.Printf("ratio eddy/goka, stateful count: %.1fx (target >= 5x)\n", count/g)
	}
	if err := runSaramaCounts(ctx, br, dir, count, keys, parts, o); err != nil {
		return err
	}
	fmt.Println()
	full, restart, err := runRestore(ctx, client, dir, restoreKeys, parts)
	if err != nil {
		return err
	}
	fmt.Printf("restore %d-key store from its changelog: %.2f s (target <= 5 s)\n", restoreKeys, full.Seconds())
	fmt.Printf("restart with intact local state:          %.2f s (target <= 1 s)\n", restart.Seconds())
	return nil
}

// fill writes records with keys spread by Kafka's default partitioner.
func fill(ctx context.Context, c broker.Client, topic string, records, keys int, parts int32) error {
	builders := make([]*batch.Builder, parts)
	for i := range builders {
		builders[i] = batch.NewBuilder(batch.BuilderOptions{})
	}
	value := make([]byte, 90)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	now := time.Now().UnixMilli()
	flush := func(p int32) error {
		data, err := builders[p].Build(nil)
		if err != nil {
			return err
		}
		builders[p].Reset()
		_, err = c.Append(ctx, topic, p, data)
		return err
	}
	for i := 0; i < records; i++ {
		key := []byte(fmt.Sprintf("key-%07d", i%keys))
		p := partition.ForKey(key, parts)
		v := value
		if i%10 == 0 {
			v = []byte("mobile:" + string(value[:40]))
		}
		builders[p].Add(batch.Record{Key: key, Value: v, Timestamp: now + int64(i/1000)})
		if builders[p].Len() == 2000 {
			if err := flush(p); err != nil {
				return err
			}
		}
	}
	for p := int32(0); p < parts; p++ {
		if builders[p].Len() > 0 {
			if err := flush(p); err != nil {
				return err
			}
		}
	}
	return nil
}
