package kafka

import (
	"context"
	"fmt"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
)

// ListOffset returns the earliest offset (broker.Earliest), the high
// watermark (broker.Latest) or the first offset whose record's timestamp is
// at or after timestamp (-1 when there is none).
func (c *Client) ListOffset(ctx context.Context, topic string, partition int32, timestamp int64) (int64, error) {
	off, err := call(c, ctx, func() (int64, error) {
		var off int64
		err := c.onLeader(ctx, topic, partition, func(conn *sarama.Broker) error {
			req := sarama.NewOffsetRequest(c.cfg.Version)
			req.AddBlock(topic, partition, timestamp, 1)
			resp, err := conn.GetAvailableOffsets(req)
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
			off = blk.Offset
			return nil
		})
		return off, err
	})
	return off, partitionErr(fmt.Sprintf("list offset (timestamp %d) of", timestamp), topic, partition, err)
}

// CommitOffsets commits a group's offsets through its coordinator, as a
// simple (generation -1, memberless) commit. Every partition's error is
// reported.
func (c *Client) CommitOffsets(ctx context.Context, group string, offsets []broker.TopicPartitionOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	_, err := call(c, ctx, func() (struct{}, error) {
		return struct{}{}, c.onCoordinator(ctx, group, func(conn *sarama.Broker) error {
			req := sarama.NewOffsetCommitRequest(c.sc.Config(), group)
			req.Version = min(req.Version, 8)
			req.ConsumerGroupGeneration = sarama.GroupGenerationUndefined
			for _, o := range offsets {
				req.AddBlock(o.Topic, o.Partition, o.Offset, 0, o.Metadata)
			}
			resp, err := conn.CommitOffset(req)
			if err != nil {
				return err
			}
			for _, o := range offsets {
				code, ok := resp.Errors[o.Topic][o.Partition]
				if !ok {
					return fmt.Errorf("%w: %s-%d", ErrIncompleteResponse, o.Topic, o.Partition)
				}
				if err := codeError(code); err != nil {
					return fmt.Errorf("%s-%d: %w", o.Topic, o.Partition, err)
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("kafka: commit offsets for group %s: %w", group, err)
	}
	return nil
}

// CommittedOffsets returns a group's committed offsets, -1 where none is.
func (c *Client) CommittedOffsets(ctx context.Context, group string, partitions []broker.TopicPartition) ([]broker.TopicPartitionOffset, error) {
	if len(partitions) == 0 {
		return nil, nil
	}
	out, err := call(c, ctx, func() ([]broker.TopicPartitionOffset, error) {
		var out []broker.TopicPartitionOffset
		err := c.onCoordinator(ctx, group, func(conn *sarama.Broker) error {
			byTopic := map[string][]int32{}
			for _, tp := range partitions {
				byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
			}
			resp, err := conn.FetchOffset(sarama.NewOffsetFetchRequest(c.cfg.Version, group, byTopic))
			if err != nil {
				return err
			}
			groupErr := resp.Err
			if len(resp.Groups) > 0 {
				groupErr = resp.Groups[0].Err
			}
			if err := codeError(groupErr); err != nil {
				return err
			}
			out = make([]broker.TopicPartitionOffset, 0, len(partitions))
			for _, tp := range partitions {
				blk := resp.GetBlock(tp.Topic, tp.Partition)
				if blk == nil {
					return fmt.Errorf("%w: %s-%d", ErrIncompleteResponse, tp.Topic, tp.Partition)
				}
				if err := codeError(blk.Err); err != nil {
					return fmt.Errorf("%s-%d: %w", tp.Topic, tp.Partition, err)
				}
				out = append(out, broker.TopicPartitionOffset{TopicPartition: tp, Offset: blk.Offset, Metadata: blk.Metadata})
			}
			return nil
		})
		return out, err
	})
	if err != nil {
		return nil, fmt.Errorf("kafka: committed offsets of group %s: %w", group, err)
	}
	return out, nil
}

// onCoordinator runs op on a pooled connection to the group's
// coordinator, finding the coordinator again after a retriable error.
func (c *Client) onCoordinator(ctx context.Context, group string, op func(conn *sarama.Broker) error) error {
	return c.retry(ctx, func() error {
		coord, err := c.sc.Coordinator(group)
		if err != nil {
			return mapErr(err)
		}
		conn, err := c.conns.get(coord.Addr())
		if err != nil {
			return err
		}
		err = op(conn)
		c.conns.put(conn, err)
		return err
	}, func() { _ = c.sc.RefreshCoordinator(group) })
}
