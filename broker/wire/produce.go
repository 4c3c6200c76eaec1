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
// The writes of a connection's pipelined produce requests happen in the
// order the requests arrived (an idempotent producer's sequence numbers
// depend on it), inside rc.InOrder; waiting for the fsyncs happens outside
// it, so those overlap across requests and partitions. Topics are never
// auto-created by a produce, as in Kafka.
func (h *brokerHandlers) handleProduce(ctx context.Context, rc *RequestContext, kreq kmsg.Request) (Response, error) {
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
	var writes []*partitionWrite
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
			switch {
			case requestError != 0:
				producePartitionError(sp, requestError, "")
			case topicError != 0:
				producePartitionError(sp, topicError, "")
			default:
				writes = append(writes, &partitionWrite{topic: name, rp: rp, sp: sp})
			}
		}
	}
	rc.InOrder(func() {
		for _, w := range writes {
			h.writePartition(w)
		}
	})
	if req.Acks == -1 {
		var wg sync.WaitGroup
		for _, w := range writes {
			if w.p != nil {
				wg.Go(func() { h.awaitPartition(w) })
			}
		}
		wg.Wait()
	}
	if req.Acks == 0 {
		return nil, nil
	}
	return Message(resp), nil
}

// partitionWrite is one partition's part of a produce request.
type partitionWrite struct {
	topic string
	rp    *kmsg.ProduceRequestTopicPartition
	sp    *kmsg.ProduceResponseTopicPartition
	p     *broker.Partition // set once written
	end   int64             // offset durability must reach
}

// writePartition writes one partition's batches and fills its response.
func (h *brokerHandlers) writePartition(w *partitionWrite) {
	p, err := h.b.Partition(w.topic, w.rp.Partition)
	if err == nil {
		var res broker.ProduceResult
		if res, w.end, err = p.Write(w.rp.Records); err == nil {
			w.p = p
			w.sp.BaseOffset = res.BaseOffset
			w.sp.LogStartOffset = res.LogStartOffset
			return
		}
	}
	h.failPartition(w, err)
}

// awaitPartition waits until a written partition's batches are durable.
func (h *brokerHandlers) awaitPartition(w *partitionWrite) {
	if err := w.p.AwaitDurable(w.end); err != nil {
		h.failPartition(w, err)
	}
}

func (h *brokerHandlers) failPartition(w *partitionWrite, err error) {
	err = fmt.Errorf("produce to %s-%d: %w", w.topic, w.rp.Partition, err)
	producePartitionError(w.sp, h.dataErrorCode(err, "Produce", w.topic, w.rp.Partition), err.Error())
}

func producePartitionError(sp *kmsg.ProduceResponseTopicPartition, code int16, message string) {
	sp.ErrorCode = code
	sp.BaseOffset = -1
	sp.LogStartOffset = -1
	if message != "" {
		sp.ErrorMessage = &message
	}
}
