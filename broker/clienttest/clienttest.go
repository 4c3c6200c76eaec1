package clienttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// Run runs the suite as subtests of t. newClient is called once per
// subtest and must return a ready client; Run closes it when the subtest
// ends (the broker behind it is the caller's to stop).
func Run(t *testing.T, newClient func(t *testing.T) broker.Client) {
	prefix := randomPrefix(t)
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"CreateTopics", testCreateTopics},
		{"AppendFetch", testAppendFetch},
		{"Codecs", testCodecs},
		{"LongPoll", testLongPoll},
		{"ListOffset", testListOffset},
		{"CommitOffsets", testCommitOffsets},
		{"Errors", testErrors},
		{"ConcurrentAppends", testConcurrentAppends},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t)
			t.Cleanup(func() {
				if err := c.Close(); err != nil {
					t.Errorf("close client: %v", err)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tc.fn(t, &suite{c: c, ctx: ctx, prefix: prefix + tc.name})
		})
	}
}

// suite is one subtest's client, context and name prefix.
type suite struct {
	c      broker.Client
	ctx    context.Context
	prefix string
}

func randomPrefix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ct-" + hex.EncodeToString(b) + "-"
}

// name returns a topic or group name unique to this run.
func (s *suite) name(suffix string) string { return s.prefix + "-" + suffix }

// topic creates a topic with n partitions and returns its name.
func (s *suite) topic(t *testing.T, suffix string, n int32) string {
	t.Helper()
	name := s.name(suffix)
	if err := s.c.CreateTopics(s.ctx, broker.TopicSpec{Name: name, Partitions: n, ReplicationFactor: -1}); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return name
}

// records returns n records numbered from first: keyed, with a header and
// timestamps 1000 ms apart from ts0; every seventh has a null key and
// every fifth is a tombstone.
func records(first, n int, ts0 int64) []batch.Record {
	out := make([]batch.Record, n)
	for i := range out {
		k := first + i
		r := batch.Record{
			Key:       []byte(fmt.Sprintf("key-%d", k)),
			Value:     []byte(fmt.Sprintf("value-%d-%s", k, string(make([]byte, k%13)))),
			Timestamp: ts0 + int64(i)*1000,
			Headers:   []batch.RecordHeader{{Key: "n", Value: []byte(fmt.Sprint(k))}, {Key: "null", Value: nil}},
		}
		if k%7 == 3 {
			r.Key = nil
		}
		if k%5 == 4 {
			r.Value = nil
		}
		out[i] = r
	}
	return out
}

// encode builds one batch of recs with codec.
func encode(t *testing.T, codec batch.Codec, recs []batch.Record) []byte {
	t.Helper()
	b := batch.NewBuilder(batch.BuilderOptions{Codec: codec})
	for _, r := range recs {
		b.Add(r)
	}
	data, err := b.Build(nil)
	if err != nil {
		t.Fatalf("build batch: %v", err)
	}
	return data
}

// appendRecs appends recs as one batch and checks the base offset.
func (s *suite) appendRecs(t *testing.T, topic string, p int32, codec batch.Codec, recs []batch.Record, wantBase int64) {
	t.Helper()
	base, err := s.c.Append(s.ctx, topic, p, encode(t, codec, recs))
	if err != nil {
		t.Fatalf("append %d records to %s-%d: %v", len(recs), topic, p, err)
	}
	if wantBase >= 0 && base != wantBase {
		t.Fatalf("append to %s-%d: base offset %d, want %d", topic, p, base, wantBase)
	}
}

// readRange fetches [from, to) and returns its records, copied. Each
// fetched batch must pass batch.Validate (length, magic, CRC).
func (s *suite) readRange(t *testing.T, topic string, p int32, from, to int64) []batch.Record {
	t.Helper()
	return readRange(s.ctx, t, s.c, topic, p, from, to)
}

// OpenBroker opens an embedded broker in a temporary directory of t,
// closed when t and its cleanups before this one are done, for tests that
// run apps on a real broker on disk.
func OpenBroker(t testing.TB) *broker.Broker {
	t.Helper()
	br, err := broker.Open(broker.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { br.Close() })
	return br
}

// ReadAll returns every record of a topic partition, from its start to its
// end at the call, copied, for tests that check what was written. Each
// fetched batch must pass batch.Validate (length, magic, CRC).
func ReadAll(ctx context.Context, t testing.TB, c broker.Client, topic string, p int32) []batch.Record {
	t.Helper()
	start, err := c.ListOffset(ctx, topic, p, broker.Earliest)
	if err != nil {
		t.Fatalf("start of %s-%d: %v", topic, p, err)
	}
	end, err := c.ListOffset(ctx, topic, p, broker.Latest)
	if err != nil {
		t.Fatalf("end of %s-%d: %v", topic, p, err)
	}
	return readRange(ctx, t, c, topic, p, start, end)
}

func readRange(ctx context.Context, t testing.TB, c broker.Client, topic string, p int32, from, to int64) []batch.Record {
	t.Helper()
	var out []batch.Record
	next := from
	for next < to {
		res, err := c.Fetch(ctx, topic, p, next, 64<<10, time.Second)
		if err != nil {
			t.Fatalf("fetch %s-%d at %d: %v", topic, p, next, err)
		}
		if len(res.Batches) == 0 {
			t.Fatalf("fetch %s-%d at %d: no data below high watermark %d (want up to %d)", topic, p, next, res.HighWatermark, to)
		}
		for _, r := range decode(t, res.Batches) {
			if r.Offset >= next && r.Offset < to {
				out = append(out, r)
				next = r.Offset + 1
			}
		}
	}
	return out
}

// decode validates and decodes fetched batches, copying the records.
func decode(t testing.TB, data []byte) []batch.Record {
	t.Helper()
	var out []batch.Record
	for len(data) > 0 {
		one, rest, err := batch.Next(data)
		if err != nil {
			t.Fatalf("split fetched batches: %v", err)
		}
		data = rest
		if _, err := batch.Validate(one, false); err != nil {
			t.Fatalf("fetched batch does not validate: %v", err)
		}
		it, err := batch.NewIterator(one)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			r := it.Record()
			r.Key, r.Value = clone(r.Key), clone(r.Value)
			hs := make([]batch.RecordHeader, len(r.Headers))
			for i, h := range r.Headers {
				hs[i] = batch.RecordHeader{Key: h.Key, Value: clone(h.Value)}
			}
			r.Headers = hs
			out = append(out, r)
		}
		if err := it.Err(); err != nil {
			t.Fatalf("decode fetched batch: %v", err)
		}
	}
	return out
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return slices.Clone(b)
}

// sameRecords compares fetched records with what was appended from offset
// base on: offsets, keys, values (nil apart from empty), timestamps and
// headers.
func sameRecords(t *testing.T, got, want []batch.Record, base int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		switch {
		case g.Offset != base+int64(i):
			t.Fatalf("record %d: offset %d, want %d", i, g.Offset, base+int64(i))
		case !sameBytes(g.Key, w.Key):
			t.Fatalf("record %d: key %q, want %q", i, g.Key, w.Key)
		case !sameBytes(g.Value, w.Value):
			t.Fatalf("record %d: value %q, want %q", i, g.Value, w.Value)
		case g.Timestamp != w.Timestamp:
			t.Fatalf("record %d: timestamp %d, want %d", i, g.Timestamp, w.Timestamp)
		case len(g.Headers) != len(w.Headers):
			t.Fatalf("record %d: %d headers, want %d", i, len(g.Headers), len(w.Headers))
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !sameBytes(g.Headers[j].Value, w.Headers[j].Value) {
				t.Fatalf("record %d header %d: %q=%q, want %q=%q", i, j, g.Headers[j].Key, g.Headers[j].Value, w.Headers[j].Key, w.Headers[j].Value)
			}
		}
	}
}

func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && string(a) == string(b)
}
