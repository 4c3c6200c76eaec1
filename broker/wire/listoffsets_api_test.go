package wire

import (
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// listOffsetsTimestamps writes offsets 0-1 at 1000-1001 ms, 2-3 at
// 2000-2001 and 4 at 1500.
func listOffsetsTimestamps(t *testing.T, d *dataBroker, topic string) {
	t.Helper()
	p, err := d.b.Partition(topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, stamps := range [][]int64{{1000, 1001}, {2000, 2001}, {1500}} {
		bb := batch.NewBuilder(batch.BuilderOptions{})
		for _, ts := range stamps {
			bb.Add(batch.Record{Value: []byte("v"), Timestamp: ts})
		}
		data, err := bb.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Produce(context.Background(), data, true); err != nil {
			t.Fatal(err)
		}
	}
}

func listOffsetsRequest(version int16, topic string, timestamps ...int64) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version = version
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, ts := range timestamps {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rp.MaxNumOffsets = 1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

func TestListOffsetsAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	listOffsetsTimestamps(t, d, "events")
	type answer struct {
		offset, ts int64
	}
	cases := []struct {
		timestamp  int64
		want       answer
		minVersion int16
	}{
		{broker.Earliest, answer{0, -1}, 0},
		{broker.Latest, answer{5, -1}, 0},
		{1500, answer{2, 2000}, 1}, // first record at or after, in offset order
		{1001, answer{1, 1001}, 1}, // inside a batch
		{5000, answer{-1, -1}, 1},  // nothing that recent
		{broker.MaxTimestamp, answer{3, 2001}, 7},
		{earliestLocalTimestamp, answer{0, -1}, 8},
		{latestTieredTimestamp, answer{-1, -1}, 9},
	}
	for v := int16(0); v <= 11; v++ {
		cl := d.clientAt(t, listOffsetsKey, v)
		for _, tc := range cases {
			if v < tc.minVersion {
				continue
			}
			resp := dataRequest[*kmsg.ListOffsetsResponse](t, cl, listOffsetsRequest(v, "events", tc.timestamp))
			if resp.Version != v {
				t.Fatalf("answered v%d, want v%d", resp.Version, v)
			}
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != 0 {
				t.Errorf("v%d timestamp %d: %v", v, tc.timestamp, kerr.ErrorForCode(p.ErrorCode))
				continue
			}
			if v == 0 {
				want := []int64{tc.want.offset}
				if !slices.Equal(p.OldStyleOffsets, want) {
					t.Errorf("v0 timestamp %d: offsets %v, want %v", tc.timestamp, p.OldStyleOffsets, want)
				}
				continue
			}
			if got := (answer{p.Offset, p.Timestamp}); got != tc.want {
				t.Errorf("v%d timestamp %d: %+v, want %+v", v, tc.timestamp, got, tc.want)
			}
			wantEpoch := int32(0)
			if tc.want.offset < 0 {
				wantEpoch = -1
			}
			if v >= 4 && p.LeaderEpoch != wantEpoch {
				t.Errorf("v%d timestamp %d: leader epoch %d, want %d", v, tc.timestamp, p.LeaderEpoch, wantEpoch)
			}
		}
	}
}

func TestListOffsetsUnknownPartition(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	// kgo routes ListOffsets by partition leader and fails before sending
	// for partitions metadata does not list, so this goes on a raw socket.
	c := dial(t, d.addr)
	for i, topic := range []string{"missing", "events"} {
		req := listOffsetsRequest(9, topic, broker.Latest)
		if topic == "events" {
			req.Topics[0].Partitions[0].Partition = 3
		}
		resp := c.roundTrip(req, int32(i)).(*kmsg.ListOffsetsResponse)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.Offset != -1 {
			t.Errorf("%s: error %v, offset %d; want UNKNOWN_TOPIC_OR_PARTITION, -1", topic, kerr.ErrorForCode(p.ErrorCode), p.Offset)
		}
	}
}
