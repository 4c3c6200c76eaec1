package wire

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/log"
)

// fetchPartition is one partition of a Fetch request: its slot in the
// response and what the latest read found.
type fetchPartition struct {
	resp     *kmsg.FetchResponseTopicPartition
	part     *broker.Partition // nil when refused before reading
	topic    string
	offset   int64
	maxBytes int
	// slice holds the batches to send; it pins its segment file until the
	// response is released.
	slice log.Slice
}

// handleFetch returns stored record batches, untouched, as spans of the
// segment files, so the server can send them with sendfile.
//
// Limits follow KIP-74: partitions are filled in request order within the
// request's MaxBytes and each partition's PartitionMaxBytes, except that the
// first batch found is sent whole even when larger, so a consumer always
// progresses. If fewer than MinBytes are found the fetch long-polls: it waits
// until one of its partitions' high watermarks moves, the connection closes
// or MaxWaitMillis passes, then reads again. A partition error ends the wait
// at once, as in Kafka.
//
// Fetch sessions (KIP-227) are declined: every response carries session id
// 0, which tells clients to keep sending full fetches. An incremental fetch
// (session epoch other than 0 or -1) can only refer to a session this broker
// never created, so it gets FETCH_SESSION_ID_NOT_FOUND, as Kafka answers
// for a session it does not have; clients then fall back to full fetches.
func (h *brokerHandlers) handleFetch(ctx context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.FetchRequest)
	if !ok {
		return nil, errUnexpectedRequest("Fetch", kreq)
	}
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	resp.SessionID = 0
	if req.Version >= 7 && req.SessionEpoch != 0 && req.SessionEpoch != -1 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return Message(resp), nil
	}
	parts := h.resolveFetch(req, resp)

	deadline := time.Now().Add(time.Duration(req.MaxWaitMillis) * time.Millisecond)
	for {
		// The channels are taken before reading, so a write landing
		// between the read and the wait still wakes the wait.
		changed := make([]<-chan struct{}, 0, len(parts))
		for _, fp := range parts {
			if fp.part != nil {
				changed = append(changed, fp.part.Log().Changed())
			}
		}
		gathered, failed := h.readFetch(parts, req.MaxBytes)
		if failed || gathered >= int(req.MinBytes) || len(changed) == 0 ||
			ctx.Err() != nil || !time.Now().Before(deadline) {
			break
		}
		releaseFetch(parts)
		waitForChange(ctx, changed, deadline)
	}
	return fetchBody(resp, parts)
}

// resolveFetch lays out the response in request order and finds each
// requested partition, answering those that cannot be read.
func (h *brokerHandlers) resolveFetch(req *kmsg.FetchRequest, resp *kmsg.FetchResponse) []fetchPartition {
	var idNames map[[16]byte]string
	if req.Version >= 13 {
		idNames = h.namesByTopicID()
	}
	var parts []fetchPartition
	resp.Topics = make([]kmsg.FetchResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := &resp.Topics[i]
		*st = kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name, topicError := rt.Topic, int16(0)
		if req.Version >= 13 {
			var known bool
			if name, known = idNames[rt.TopicID]; !known {
				topicError = kerr.UnknownTopicID.Code
			}
		}
		st.Partitions = make([]kmsg.FetchResponseTopicPartition, len(rt.Partitions))
		for j := range rt.Partitions {
			rp := &rt.Partitions[j]
			sp := &st.Partitions[j]
			*sp = kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.RecordBatches = []byte{}
			fp := fetchPartition{resp: sp, topic: name, offset: rp.FetchOffset, maxBytes: max(int(rp.PartitionMaxBytes), 0)}
			switch {
			case topicError != 0:
				sp.ErrorCode = topicError
			case req.Version >= 9 && checkLeaderEpoch(rp.CurrentLeaderEpoch) != 0:
				sp.ErrorCode = checkLeaderEpoch(rp.CurrentLeaderEpoch)
			default:
				p, err := h.b.Partition(name, rp.Partition)
				if err != nil {
					sp.ErrorCode = broker.ErrorCode(err)
				}
				fp.part = p
			}
			parts = append(parts, fp)
		}
	}
	return parts
}

// readFetch reads every partition once within the request's byte limits. It
// returns the bytes found and whether any partition failed.
func (h *brokerHandlers) readFetch(parts []fetchPartition, maxBytes int32) (gathered int, failed bool) {
	budget := max(int(maxBytes), 0)
	// Until some partition returns data, the first batch found is sent
	// whole even if it is over the limits (KIP-74).
	first := true
	for i := range parts {
		fp := &parts[i]
		if fp.part == nil {
			failed = true
			continue
		}
		sp := fp.resp
		limit := min(fp.maxBytes, budget)
		res, err := fp.part.Read(fp.offset, limit)
		sp.ErrorCode = 0
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
		if err == nil || errors.Is(err, log.ErrOffsetOutOfRange) {
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = res.HighWatermark, res.HighWatermark, res.LogStartOffset
		}
		if err != nil {
			if errors.Is(err, log.ErrOffsetOutOfRange) && !offsetPastLog(fp.part, fp.offset) {
				// Written but not yet durable, so not yet visible:
				// Kafka answers an offset between the high watermark
				// and the log end with no records, not an error.
				continue
			}
			err = fmt.Errorf("fetch %s-%d at offset %d: %w", fp.topic, fp.part.Index, fp.offset, err)
			sp.ErrorCode = h.dataErrorCode(err, "Fetch", fp.topic, fp.part.Index)
			failed = true
			continue
		}
		if res.Length == 0 {
			continue
		}
		if !first && res.Length > limit {
			res.Release()
			continue
		}
		first = false
		fp.slice = res.Slice
		gathered += res.Length
		budget = max(budget-res.Length, 0)
	}
	return gathered, failed
}

// offsetPastLog reports whether offset lies outside what the partition has
// stored, durable or not.
func offsetPastLog(p *broker.Partition, offset int64) bool {
	start, _, end := p.Offsets()
	return offset < start || offset > end
}

// releaseFetch unpins the slices of a read that will not be sent.
func releaseFetch(parts []fetchPartition) {
	for i := range parts {
		if parts[i].slice.Length > 0 {
			parts[i].slice.Release()
		}
		parts[i].slice = log.Slice{}
	}
}

// waitForChange returns when one of the channels is closed, ctx ends or the
// deadline passes.
func waitForChange(ctx context.Context, changed []<-chan struct{}, deadline time.Time) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for _, ch := range changed {
		wg.Go(func() {
			select {
			case <-ch:
				cancel()
			case <-ctx.Done():
			}
		})
	}
	wg.Wait()
}

// placeholderLen is the size of the stand-in encoded in place of each
// partition's records: 16 random bytes per response, then the index.
const placeholderLen = 20

// fetchBody encodes the response with kmsg and splices each partition's
// records in as a file span. kmsg encodes a placeholder for every partition
// holding data; the encoding is then cut at each placeholder, whose length
// prefix is replaced by the real length's. The placeholders are random, so
// they cannot be confused with the rest of the encoding; each is also
// checked to sit right after its own length prefix.
func fetchBody(resp *kmsg.FetchResponse, parts []fetchPartition) (Response, error) {
	var marker [16]byte
	binary.LittleEndian.PutUint64(marker[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(marker[8:], rand.Uint64())
	var withData []*fetchPartition
	for i := range parts {
		fp := &parts[i]
		if fp.slice.Length == 0 {
			continue
		}
		ph := make([]byte, placeholderLen)
		copy(ph, marker[:])
		binary.BigEndian.PutUint32(ph[len(marker):], uint32(len(withData)))
		fp.resp.RecordBatches = ph
		withData = append(withData, fp)
	}
	if len(withData) == 0 {
		return Message(resp), nil
	}

	flexible := resp.IsFlexible()
	placeholderPrefix := recordsLengthPrefix(nil, placeholderLen, flexible)
	enc := resp.AppendTo(nil)
	body := &Pieces{}
	pos := 0
	for _, fp := range withData {
		at := bytes.Index(enc[pos:], fp.resp.RecordBatches)
		prefixAt := pos + at - len(placeholderPrefix)
		if at < 0 || prefixAt < pos || !bytes.Equal(enc[prefixAt:pos+at], placeholderPrefix) {
			releaseFetch(parts)
			return nil, fmt.Errorf("wire: fetch response v%d: records placeholder of %s-%d not found in the encoding", resp.Version, fp.topic, fp.resp.Partition)
		}
		body.AppendBytes(enc[pos:prefixAt])
		body.AppendBytes(recordsLengthPrefix(nil, fp.slice.Length, flexible))
		body.AppendSpan(Span{File: fp.slice.File(), Offset: fp.slice.Position, Length: int64(fp.slice.Length)})
		pos += at + placeholderLen
	}
	body.AppendBytes(enc[pos:])
	slices := make([]log.Slice, len(withData))
	for i, fp := range withData {
		slices[i] = fp.slice
	}
	body.OnRelease(func() {
		for _, s := range slices {
			s.Release()
		}
	})
	return body, nil
}

// recordsLengthPrefix appends the length prefix of a nullable byte array
// holding n bytes: an int32, or in flexible versions a uvarint of n+1.
func recordsLengthPrefix(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return binary.AppendUvarint(dst, uint64(n)+1)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}
