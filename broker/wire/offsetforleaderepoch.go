package wire

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleOffsetForLeaderEpoch lets consumers detect log truncation (KIP-320).
// The log has a single leader epoch, 0, so:
//
//   - the current leader epoch the client believes in is checked as Kafka
//     does (-1 skips the check, anything but 0 is fenced or unknown);
//   - the end offset of epoch 0 is the high watermark, the end of what
//     consumers can have read; -1 (no epoch known, as a client that has
//     read nothing would send) is answered the same way;
//   - a later epoch has no end offset yet: epoch and offset -1, which is
//     Kafka's answer for an epoch newer than any it has.
func (h *brokerHandlers) handleOffsetForLeaderEpoch(_ context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.OffsetForLeaderEpochRequest)
	if !ok {
		return nil, errUnexpectedRequest("OffsetForLeaderEpoch", kreq)
	}
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Topics = make([]kmsg.OffsetForLeaderEpochResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, 0, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			p, err := h.b.Partition(rt.Topic, rp.Partition)
			switch {
			case err != nil:
				err = fmt.Errorf("offset for leader epoch of %s-%d: %w", rt.Topic, rp.Partition, err)
				sp.ErrorCode = h.dataErrorCode(err, "OffsetForLeaderEpoch", rt.Topic, rp.Partition)
			case checkLeaderEpoch(rp.CurrentLeaderEpoch) != 0:
				sp.ErrorCode = checkLeaderEpoch(rp.CurrentLeaderEpoch)
			case rp.LeaderEpoch <= leaderEpoch:
				_, hw, _ := p.Offsets()
				sp.LeaderEpoch, sp.EndOffset = leaderEpoch, hw
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return Message(resp), nil
}
