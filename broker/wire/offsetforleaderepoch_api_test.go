package wire

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetForLeaderEpoch(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	d.append(t, "events", 0, "x", 6, 0)
	type answer struct {
		code   int16
		epoch  int32
		offset int64
	}
	cases := []struct {
		current, asked int32
		want           answer
	}{
		{0, 0, answer{0, 0, 6}},
		{-1, 0, answer{0, 0, 6}},
		{0, -1, answer{0, 0, 6}},
		{0, 3, answer{0, -1, -1}}, // an epoch newer than any
		{1, 0, answer{kerr.UnknownLeaderEpoch.Code, -1, -1}},
		{-4, 0, answer{kerr.FencedLeaderEpoch.Code, -1, -1}},
	}
	// kgo routes this request by partition leader, so send it raw to
	// control the version.
	c := dial(t, d.addr)
	corr := int32(0)
	for v := int16(2); v <= 4; v++ {
		for _, tc := range cases {
			req := kmsg.NewPtrOffsetForLeaderEpochRequest()
			req.Version = v
			req.ReplicaID = -1
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = "events"
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.CurrentLeaderEpoch, rp.LeaderEpoch = tc.current, tc.asked
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			corr++
			resp := c.roundTrip(req, corr).(*kmsg.OffsetForLeaderEpochResponse)
			p := resp.Topics[0].Partitions[0]
			if got := (answer{p.ErrorCode, p.LeaderEpoch, p.EndOffset}); got != tc.want {
				t.Errorf("v%d current %d asked %d: %+v, want %+v", v, tc.current, tc.asked, got, tc.want)
			}
		}
	}

	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = 4
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = "missing"
	rt.Partitions = []kmsg.OffsetForLeaderEpochRequestTopicPartition{kmsg.NewOffsetForLeaderEpochRequestTopicPartition()}
	req.Topics = append(req.Topics, rt)
	resp := c.roundTrip(req, corr+1).(*kmsg.OffsetForLeaderEpochResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("unknown topic: %v", kerr.ErrorForCode(code))
	}
}
