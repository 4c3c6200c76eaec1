package wire

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// consumerOffsetsTopic is written by the group coordinator only.
const consumerOffsetsTopic = "__consumer_offsets"

// handleProduce appends each partition's record batches to its log. The
// batches are stored as the client sent them (after validation and offset
// stamping, see broker.Partition.Produce). acks=-1 waits for fsync; acks=1
// for the write to the operating system; acks=0 gets no response at all.
//
// Partitions of one request are written concurrently: with acks=-1 their
// fsyncs overlap instead of queueing behind each other. Topics are never
// auto-created by a produce, as in Kafka.
func (h *brokerHandlers) handleProduce(ctx context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.ProduceRequest)
	if !ok {
		return nil, errUnexpectedRequest("Produce", kreq)
	}
	resp := req.ResponseKind().(*kmsg.ProduceResponse)

	// requestError answers every partition when the request as a whole
	// cannot be served.
	var requestError int16
	switch {
	case req.Version < 3:
		// v0-2 carry MessageSet v0/v1, which the log does not store.
		requestError = kerr.UnsupportedForMessageFormat.Code
	case req.Acks != -1 && req.Acks != 0 && req.Acks != 1:
		requestError = kerr.InvalidRequiredAcks.Code
	}

	var idNames map[[16]byte]string
	if req.Version >= 13 {
		idNames = h.namesByTopicID()
	}
	var wg sync.WaitGroup
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := &resp.Topics[i]
		*st = kmsg.NewProduceResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name, topicError := rt.Topic, int16(0)
		if req.Version >= 13 {
			var known bool
			if name, known = idNames[rt.TopicID]; !known {
				topicError = kerr.UnknownTopicID.Code
			}
		}
		if name == consumerOffsetsTopic {
			topicError = kerr.InvalidTopicException.Code
		}
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			sp := &st.Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			if requestError != 0 {
				producePartitionError(sp, requestError, "")
				continue
			}
			if topicError != 0 {
				producePartitionError(sp, topicError, "")
				continue
			}
			if len(req.Topics) == 1 && len(rt.Partitions) == 1 {
				h.producePartition(ctx, name, rp, sp, req.Acks)
				continue
			}
			wg.Go(func() { h.producePartition(ctx, name, rp, sp, req.Acks) })
		}
	}
	wg.Wait()
	if req.Acks == 0 {
		return nil, nil
	}
	return Message(resp), nil
}

// producePartition writes one partition's batches and fills its response.
func (h *brokerHandlers) producePartition(ctx context.Context, topic string, rp *kmsg.ProduceRequestTopicPartition, sp *kmsg.ProduceResponseTopicPartition, acks int16) {
	p, err := h.b.Partition(topic, rp.Partition)
	if err == nil {
		var res broker.ProduceResult
		if res, err = p.Produce(ctx, rp.Records, acks == -1); err == nil {
			sp.BaseOffset = res.BaseOffset
			sp.LogStartOffset = res.LogStartOffset
			return
		}
	}
	err = fmt.Errorf("produce to %s-%d: %w", topic, rp.Partition, err)
	producePartitionError(sp, h.dataErrorCode(err, "Produce", topic, rp.Partition), err.Error())
}

func producePartitionError(sp *kmsg.ProduceResponseTopicPartition, code int16, message string) {
	sp.ErrorCode = code
	sp.BaseOffset = -1
	sp.LogStartOffset = -1
	if message != "" {
		sp.ErrorMessage = &message
	}
}
