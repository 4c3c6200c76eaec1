package kafka

import (
	"context"
	"time"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
)

// fetchSlice is the longest wait one Fetch request asks the broker for. A
// longer maxWait is served by successive requests, so a cancelled or
// abandoned fetch (sarama cannot abort a request in flight) ends within
// fetchSlice, and Close does not wait longer for it.
const fetchSlice = 500 * time.Millisecond

// Fetch reads whole batches from offset, up to maxBytes (at least one
// batch), waiting up to maxWait for data when there is none at offset yet.
// It reads uncommitted data, as the embedded broker's Fetch does. The
// batches are re-encoded from sarama's decoded records, uncompressed (see
// toBatches); an offset outside the log fails with log.ErrOffsetOutOfRange.
func (c *Client) Fetch(ctx context.Context, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (broker.FetchResult, error) {
	if maxBytes <= 0 {
		maxBytes = 1
	}
	deadline := time.Now().Add(max(maxWait, 0))
	for {
		wait := min(time.Until(deadline), fetchSlice)
		res, err := call(c, ctx, func() (broker.FetchResult, error) {
			return c.fetchOnce(ctx, topic, partition, offset, maxBytes, max(wait, 0))
		})
		if err != nil || len(res.Batches) > 0 || time.Until(deadline) <= 0 {
			return res, partitionErr("fetch", topic, partition, err)
		}
	}
}

// fetchOnce sends one Fetch request to the partition's leader.
func (c *Client) fetchOnce(ctx context.Context, topic string, partition int32, offset int64, maxBytes int, wait time.Duration) (broker.FetchResult, error) {
	var res broker.FetchResult
	err := c.onLeader(ctx, topic, partition, func(conn *sarama.Broker) error {
		req := &sarama.FetchRequest{Version: 12, MaxWaitTime: millis(wait), MinBytes: 1, MaxBytes: int32(maxBytes), Isolation: sarama.ReadUncommitted}
		req.AddBlock(topic, partition, offset, int32(maxBytes), -1)
		resp, err := conn.Fetch(req)
		if err != nil {
			return err
		}
		blk := resp.GetBlock(topic, partition)
		if blk == nil {
			return ErrIncompleteResponse
		}
		if err := codeError(blk.Err); err != nil {
			return err
		}
		data, err := toBatches(nil, blk.RecordsSet, nil)
		if err != nil {
			return err
		}
		res = broker.FetchResult{Batches: data, HighWatermark: blk.HighWaterMarkOffset, LogStartOffset: blk.LogStartOffset}
		return nil
	})
	return res, err
}
