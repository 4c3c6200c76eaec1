package wire

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// ListOffsets' special timestamps beyond broker.Earliest, Latest and
// MaxTimestamp, from the tiered-storage KIPs (405, 1005, 1023).
const (
	earliestLocalTimestamp         = -4
	latestTieredTimestamp          = -5
	earliestPendingUploadTimestamp = -6
)

// handleListOffsets answers the earliest offset (-2), the latest (-1, the
// high watermark), the offset of the largest timestamp (-3, KIP-734) or the
// first offset at or after a timestamp. Without transactions the last
// stable offset is the high watermark, so the isolation level changes
// nothing. The current leader epoch is not checked: a single node's epoch
// never changes, and fencing a stale client here would only delay it.
//
// Without tiered storage the earliest local offset (-4) is the earliest
// offset, and the tiered-storage timestamps (-5, -6) find no offset.
//
// Version 0 predates single answers: it returns a list of offsets, here at
// most one (Kafka listed segment base offsets too; clients use the first).
func (h *brokerHandlers) handleListOffsets(_ context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.ListOffsetsRequest)
	if !ok {
		return nil, errUnexpectedRequest("ListOffsets", kreq)
	}
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	resp.Topics = make([]kmsg.ListOffsetsResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ListOffsetsResponseTopicPartition, 0, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			offset, ts, err := h.listOffset(rt.Topic, rp.Partition, rp.Timestamp)
			switch {
			case err != nil:
				err = fmt.Errorf("list offsets of %s-%d at timestamp %d: %w", rt.Topic, rp.Partition, rp.Timestamp, err)
				sp.ErrorCode = h.dataErrorCode(err, "ListOffsets", rt.Topic, rp.Partition)
			case req.Version == 0:
				if offset >= 0 && rp.MaxNumOffsets > 0 {
					sp.OldStyleOffsets = []int64{offset}
				}
			default:
				sp.Offset, sp.Timestamp = offset, ts
				if offset >= 0 {
					sp.LeaderEpoch = leaderEpoch
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Message(resp), nil
}

// listOffset returns the offset and timestamp answering one partition's
// query, -1 for each when there is none.
func (h *brokerHandlers) listOffset(topic string, partition int32, timestamp int64) (offset, ts int64, err error) {
	p, err := h.b.Partition(topic, partition)
	if err != nil {
		return 0, 0, err
	}
	switch timestamp {
	case earliestLocalTimestamp:
		timestamp = broker.Earliest
	case latestTieredTimestamp, earliestPendingUploadTimestamp:
		return -1, -1, nil
	}
	return p.ListOffset(timestamp)
}
