package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchPartitions spreads a topic over a few partitions, as a real
// producer's traffic would be.
const benchPartitions = 4

type produceResult struct {
	recordsPerSec, bytesPerSec float64
	p50, p99                   time.Duration
}

// produce sends volume bytes of records of size bytes with acks=all and the
// idempotent producer (franz-go's defaults), at full speed (rate 0) or
// paced at rate records/s, and measures per-record latency from Produce to
// acknowledgement.
func produce(addr, topic string, size int, volume int64, rate float64) (produceResult, error) {
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<16), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		return produceResult{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, benchPartitions, -1, nil, topic); err != nil && !isExists(err) {
		return produceResult{}, fmt.Errorf("create %s: %w", topic, err)
	}
	n := int(volume / int64(size))
	value := make([]byte, size)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	lat := make([]time.Duration, n)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		}
		sent := time.Now()
		idx := i
		cl.Produce(ctx, &kgo.Record{Value: value}, func(_ *kgo.Record, err error) {
			lat[idx] = time.Since(sent)
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	took := time.Since(start)
	if firstErr != nil {
		return produceResult{}, fmt.Errorf("produce to %s: %w", topic, firstErr)
	}
	slices.Sort(lat)
	return produceResult{
		recordsPerSec: float64(n) / took.Seconds(),
		bytesPerSec:   float64(n*size) / took.Seconds(),
		p50:           lat[n/2].Round(10 * time.Microsecond),
		p99:           lat[n*99/100].Round(10 * time.Microsecond),
	}, nil
}

func isExists(err error) bool {
	return err != nil && (fmt.Sprint(err) == "TOPIC_ALREADY_EXISTS" || containsExists(err.Error()))
}

func containsExists(s string) bool {
	for i := 0; i+len("TOPIC_ALREADY_EXISTS") <= len(s); i++ {
		if s[i:i+len("TOPIC_ALREADY_EXISTS")] == "TOPIC_ALREADY_EXISTS" {
			return true
		}
	}
	return false
}

type consumeResult struct{ recordsPerSec, bytesPerSec float64 }

// consume reads a topic from the start to its current end.
func consume(addr, topic string) (consumeResult, error) {
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(16<<20))
	if err != nil {
		return consumeResult{}, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		return consumeResult{}, err
	}
	var want int64
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	var got, bytes int64
	start := time.Now()
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			return consumeResult{}, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			got++
			bytes += int64(len(r.Value))
		})
	}
	took := time.Since(start)
	return consumeResult{float64(got) / took.Seconds(), float64(bytes) / took.Seconds()}, nil
}
