package wire

import (
	"bytes"
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchTarget names one partition to fetch from.
type fetchTarget struct {
	topic     string
	id        [16]byte // used from v13
	partition int32
	offset    int64
}

// fetchRequest fetches the targets without waiting, 1 MiB per partition.
func fetchRequest(version int16, targets ...fetchTarget) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = version
	req.ReplicaID = -1
	req.MaxBytes = 16 << 20
	req.SessionEpoch = -1
	for _, tg := range targets {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tg.topic {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic, rt.TopicID = tg.topic, tg.id
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = tg.partition
		rp.FetchOffset = tg.offset
		rp.PartitionMaxBytes = 1 << 20
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	return req
}

// fetchedPartitions flattens a response in order.
func fetchedPartitions(t *testing.T, resp *kmsg.FetchResponse) []kmsg.FetchResponseTopicPartition {
	t.Helper()
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch: top-level error %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	var out []kmsg.FetchResponseTopicPartition
	for _, rt := range resp.Topics {
		out = append(out, rt.Partitions...)
	}
	return out
}

func TestFetchAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	info, _ := d.b.Topic("events")
	d.append(t, "events", 0, "first", 3, 0)
	d.append(t, "events", 0, "second", 2, 0)
	want := []string{"first-0", "first-1", "first-2", "second-0", "second-1"}
	for v := int16(4); v <= 18; v++ {
		req := fetchRequest(v, fetchTarget{topic: "events", id: info.ID, offset: 1})
		resp := dataRequest[*kmsg.FetchResponse](t, d.clientAt(t, fetchKey, v), req)
		if resp.Version != v {
			t.Fatalf("answered v%d, want v%d", resp.Version, v)
		}
		if resp.SessionID != 0 {
			t.Errorf("v%d: session id %d, want 0 (sessions declined)", v, resp.SessionID)
		}
		if v >= 13 && resp.Topics[0].TopicID != info.ID {
			t.Errorf("v%d: topic id %x, want %x", v, resp.Topics[0].TopicID, info.ID)
		}
		parts := fetchedPartitions(t, resp)
		if len(parts) != 1 {
			t.Fatalf("v%d: %d partitions", v, len(parts))
		}
		p := parts[0]
		if p.ErrorCode != 0 || p.HighWatermark != 5 || p.LastStableOffset != 5 {
			t.Errorf("v%d: error %d, high watermark %d, last stable %d; want 0, 5, 5", v, p.ErrorCode, p.HighWatermark, p.LastStableOffset)
		}
		if v >= 5 && p.LogStartOffset != 0 {
			t.Errorf("v%d: log start offset %d", v, p.LogStartOffset)
		}
		if v >= 11 && p.PreferredReadReplica != -1 {
			t.Errorf("v%d: preferred read replica %d", v, p.PreferredReadReplica)
		}
		if p.AbortedTransactions != nil {
			t.Errorf("v%d: aborted transactions %+v, want null", v, p.AbortedTransactions)
		}
		// Whole batches come back: offset 1 is inside the first.
		if got := dataRecordValues(t, p.RecordBatches, 0); !slices.Equal(got, want) {
			t.Errorf("v%d: values %v, want %v", v, got, want)
		}
	}
}

func TestFetchPartitionErrors(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	d.append(t, "events", 0, "x", 4, 0)
	cl := d.clientAt(t, fetchKey, 12)

	req := fetchRequest(12,
		fetchTarget{topic: "events", offset: 4}, // at the high watermark
		fetchTarget{topic: "events", offset: 5}, // past the end
		fetchTarget{topic: "events", offset: -1},
		fetchTarget{topic: "missing"},
		fetchTarget{topic: "events2"},
	)
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, kmsg.NewFetchRequestTopicPartition())
	req.Topics[0].Partitions[3].Partition = 7 // no such partition
	req.MaxWaitMillis = 10_000                // errors answer at once regardless
	start := time.Now()
	parts := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, cl, req))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a fetch with failing partitions waited %v", took)
	}
	wantCodes := []int16{0, kerr.OffsetOutOfRange.Code, kerr.OffsetOutOfRange.Code, kerr.UnknownTopicOrPartition.Code,
		kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code}
	if len(parts) != len(wantCodes) {
		t.Fatalf("%d partitions answered, want %d", len(parts), len(wantCodes))
	}
	for i, p := range parts {
		if p.ErrorCode != wantCodes[i] {
			t.Errorf("slot %d (partition %d): error %v, want %v", i, p.Partition, kerr.ErrorForCode(p.ErrorCode), kerr.ErrorForCode(wantCodes[i]))
		}
		if len(p.RecordBatches) != 0 {
			t.Errorf("slot %d: %d bytes of records", i, len(p.RecordBatches))
		}
	}
	for i := range 3 { // the known partition's bounds come back even with OFFSET_OUT_OF_RANGE
		if parts[i].HighWatermark != 4 || parts[i].LogStartOffset != 0 {
			t.Errorf("slot %d: high watermark %d, log start %d; want 4, 0", i, parts[i].HighWatermark, parts[i].LogStartOffset)
		}
	}

	byID := fetchRequest(13, fetchTarget{id: [16]byte{4, 5, 6}})
	parts = fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, d.clientAt(t, fetchKey, 13), byID))
	if parts[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Errorf("unknown topic id: %v, want UNKNOWN_TOPIC_ID", kerr.ErrorForCode(parts[0].ErrorCode))
	}
}

func TestFetchLeaderEpochFencing(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	cl := d.clientAt(t, fetchKey, 12)
	for epoch, want := range map[int32]int16{-1: 0, 0: 0, 1: kerr.UnknownLeaderEpoch.Code, -5: kerr.FencedLeaderEpoch.Code} {
		req := fetchRequest(12, fetchTarget{topic: "events"})
		req.Topics[0].Partitions[0].CurrentLeaderEpoch = epoch
		if got := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, cl, req))[0].ErrorCode; got != want {
			t.Errorf("current leader epoch %d: %v, want %v", epoch, kerr.ErrorForCode(got), kerr.ErrorForCode(want))
		}
	}
}

// A session epoch above 0 refers to a session, and this broker never
// creates one; a full fetch opening a session (epoch 0) is served without.
func TestFetchSessionsDeclined(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	d.append(t, "events", 0, "x", 1, 0)
	cl := d.clientAt(t, fetchKey, 12)

	open := fetchRequest(12, fetchTarget{topic: "events"})
	open.SessionID, open.SessionEpoch = 0, 0
	resp := dataRequest[*kmsg.FetchResponse](t, cl, open)
	if resp.ErrorCode != 0 || resp.SessionID != 0 || len(fetchedPartitions(t, resp)[0].RecordBatches) == 0 {
		t.Errorf("session-opening fetch: error %d, session %d; want records and session 0", resp.ErrorCode, resp.SessionID)
	}

	incremental := fetchRequest(12, fetchTarget{topic: "events"})
	incremental.SessionID, incremental.SessionEpoch = 77, 3
	resp = dataRequest[*kmsg.FetchResponse](t, cl, incremental)
	if resp.ErrorCode != kerr.FetchSessionIDNotFound.Code || len(resp.Topics) != 0 {
		t.Errorf("incremental fetch: error %d with %d topics, want FETCH_SESSION_ID_NOT_FOUND and none", resp.ErrorCode, len(resp.Topics))
	}
}

func TestFetchLongPollReturnsWhenDataArrives(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 2)
	cl := d.clientAt(t, fetchKey, 12)
	req := fetchRequest(12, fetchTarget{topic: "events", partition: 0}, fetchTarget{topic: "events", partition: 1})
	req.MinBytes, req.MaxWaitMillis = 1, 20_000

	const delay = 300 * time.Millisecond
	go func() {
		time.Sleep(delay)
		p, err := d.b.Partition("events", 1)
		if err == nil {
			_, err = p.Produce(context.Background(), dataBatch(t, "late", 2, 0), true)
		}
		if err != nil {
			t.Errorf("late append: %v", err)
		}
	}()
	start := time.Now()
	parts := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, cl, req))
	took := time.Since(start)
	if took < delay || took > 10*time.Second {
		t.Errorf("long poll answered after %v; want soon after the data at %v", took, delay)
	}
	if len(parts[0].RecordBatches) != 0 {
		t.Errorf("partition 0 has records")
	}
	if got := dataRecordValues(t, parts[1].RecordBatches, 0); !slices.Equal(got, []string{"late-0", "late-1"}) {
		t.Errorf("partition 1: %v", got)
	}
}

func TestFetchLongPollTimesOutEmpty(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	d.append(t, "events", 0, "old", 1, 0)
	req := fetchRequest(12, fetchTarget{topic: "events", offset: 1})
	req.MinBytes, req.MaxWaitMillis = 1, 400
	start := time.Now()
	parts := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, d.clientAt(t, fetchKey, 12), req))
	if took := time.Since(start); took < 400*time.Millisecond || took > 5*time.Second {
		t.Errorf("empty long poll answered after %v, want about MaxWait (400ms)", took)
	}
	if p := parts[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 1 {
		t.Errorf("after MaxWait: error %d, %d bytes, high watermark %d; want no error, no records, 1", p.ErrorCode, len(p.RecordBatches), p.HighWatermark)
	}
}

// MinBytes holds the answer until enough bytes are there, not just any.
func TestFetchMinBytes(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 1)
	d.append(t, "events", 0, "small", 1, 0)
	cl := d.clientAt(t, fetchKey, 12)

	req := fetchRequest(12, fetchTarget{topic: "events"})
	req.MinBytes, req.MaxWaitMillis = 1, 20_000
	start := time.Now()
	dataRequest[*kmsg.FetchResponse](t, cl, req)
	if took := time.Since(start); took > 10*time.Second { // MaxWait is 20 s
		t.Errorf("MinBytes already met, yet the fetch waited %v", took)
	}

	const delay = 300 * time.Millisecond
	go func() {
		time.Sleep(delay / 2)
		p, _ := d.b.Partition("events", 0)
		if _, err := p.Produce(context.Background(), dataBatch(t, "still-small", 1, 0), true); err != nil {
			t.Errorf("append: %v", err)
		}
		time.Sleep(delay / 2)
		if _, err := p.Produce(context.Background(), dataBatch(t, "big", 1, 8000), true); err != nil {
			t.Errorf("append: %v", err)
		}
	}()
	req.MinBytes = 5000
	start = time.Now()
	parts := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, cl, req))
	if took := time.Since(start); took < delay || took > 10*time.Second {
		t.Errorf("fetch with MinBytes 5000 answered after %v; want once the big batch lands at %v", took, delay)
	}
	if got := dataRecordValues(t, parts[0].RecordBatches, 0); len(got) != 3 {
		t.Errorf("got %d records, want all 3", len(got))
	}
}

// KIP-74: partitions fill in order within MaxBytes, but the first batch
// found is sent whole even when it alone exceeds the limits.
func TestFetchMaxBytes(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 3)
	size := len(dataBatch(t, "p", 1, 1000))
	for p := int32(0); p < 3; p++ {
		for range 4 {
			d.append(t, "events", p, "p", 1, 1000)
		}
	}
	cl := d.clientAt(t, fetchKey, 12)
	all := []fetchTarget{{topic: "events", partition: 0}, {topic: "events", partition: 1}, {topic: "events", partition: 2}}
	for _, tc := range []struct {
		name                   string
		maxBytes, partitionMax int32
		wantBatches            []int
	}{
		{"room for everything", 1 << 20, 1 << 20, []int{4, 4, 4}},
		{"request limit cuts within the second partition", int32(6*size + size/2), 1 << 20, []int{4, 2, 0}},
		{"request limit below one batch", 10, 1 << 20, []int{1, 0, 0}},
		{"partition limit below one batch", 1 << 20, 10, []int{1, 0, 0}},
		{"partition limit of two batches", 1 << 20, int32(2*size + 1), []int{2, 2, 2}},
	} {
		req := fetchRequest(12, all...)
		req.MaxBytes = tc.maxBytes
		for i := range req.Topics[0].Partitions {
			req.Topics[0].Partitions[i].PartitionMaxBytes = tc.partitionMax
		}
		parts := fetchedPartitions(t, dataRequest[*kmsg.FetchResponse](t, cl, req))
		for i, p := range parts {
			if got := len(p.RecordBatches) / size; got != tc.wantBatches[i] || len(p.RecordBatches)%size != 0 {
				t.Errorf("%s: partition %d got %d bytes (%d batches of %d), want %d batches", tc.name, i, len(p.RecordBatches), got, size, tc.wantBatches[i])
			}
		}
	}
}

// The handler answers with the stored batches as file spans, which the
// connection writer sends with sendfile where it can; the bytes that
// arrive decode as the same response kmsg would have encoded.
func TestFetchSendsStoredBatchesAsFileSpans(t *testing.T) {
	d := startDataBroker(t)
	d.createTopic(t, "events", 2)
	d.append(t, "events", 0, "big", 8, 4000)      // over the sendfile threshold
	d.append(t, "events", 1, "small", 2, 10)      // copied: too small to be worth a syscall
	for _, version := range []int16{11, 12, 18} { // 12+ is flexible
		info, _ := d.b.Topic("events")
		req := fetchRequest(version, fetchTarget{topic: "events", id: info.ID, partition: 0}, fetchTarget{topic: "events", id: info.ID, partition: 1})
		resp, err := d.h.handleFetch(context.Background(), nil, req)
		if err != nil {
			t.Fatal(err)
		}
		body, ok := resp.(*Pieces)
		if !ok {
			t.Fatalf("v%d: response is %T, want *Pieces", version, resp)
		}
		var spans int64
		for _, part := range body.parts {
			if part.span.File != nil {
				spans += part.span.Length
			}
		}
		p0, _ := d.b.Partition("events", 0)
		p1, _ := d.b.Partition("events", 1)
		stored0, _, _ := p0.Log().ReadBatches(0, 1<<20, nil)
		stored1, _, _ := p1.Log().ReadBatches(0, 1<<20, nil)
		if spans != int64(len(stored0)+len(stored1)) {
			t.Fatalf("v%d: %d bytes in spans, want all %d stored bytes", version, spans, len(stored0)+len(stored1))
		}

		server, client := tcpPair(t)
		got := readAllAsync(client, 0)
		w := newConnWriter(server)
		if err := body.WriteBody(w); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		body.Release()
		_ = server.Close()
		if runtime.GOOS == "linux" && w.sentWithSendfile != int64(len(stored0)) {
			t.Errorf("v%d: %d bytes sent with sendfile, want the big partition's %d", version, w.sentWithSendfile, len(stored0))
		}
		wire := <-got
		if len(wire) != body.Size() {
			t.Fatalf("v%d: wrote %d bytes, announced %d", version, len(wire), body.Size())
		}
		decoded := req.ResponseKind().(*kmsg.FetchResponse)
		if err := decoded.ReadFrom(wire); err != nil {
			t.Fatalf("v%d: response does not decode: %v", version, err)
		}
		parts := fetchedPartitions(t, decoded)
		if !bytes.Equal(parts[0].RecordBatches, stored0) || !bytes.Equal(parts[1].RecordBatches, stored1) {
			t.Errorf("v%d: records differ from the stored batches", version)
		}
		if parts[0].HighWatermark != 8 || parts[1].HighWatermark != 2 {
			t.Errorf("v%d: high watermarks %d, %d", version, parts[0].HighWatermark, parts[1].HighWatermark)
		}
	}
}
