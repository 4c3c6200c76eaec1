package interop

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker/batch"
)

// The non-Go clients (kcat, kafka-python, kafkajs) run as subprocesses. The
// helpers below are shared by kcat_test.go, python_test.go and
// kafkajs_test.go.

// extRequire fails the test when an external client is missing: these tests
// are part of the suite, so a missing client is a setup error, not a skip.
func extRequire(t *testing.T, what string, check *exec.Cmd) {
	t.Helper()
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("%s is not installed (%v: %s); run `make deps` (scripts/install-test-deps.sh)", what, err, bytes.TrimSpace(out))
	}
}

// extRun runs a client to completion within timeout, feeding it stdin, and
// returns its standard output. A non-zero exit or a timeout fails the test
// with the client's standard error.
func extRun(t *testing.T, timeout time.Duration, stdin string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %v; stderr:\n%s", name, strings.Join(args, " "), timeout, extTail(stderr.String()))
	}
	if err != nil {
		t.Fatalf("%s %s: %v; stderr:\n%s", name, strings.Join(args, " "), err, extTail(stderr.String()))
	}
	t.Logf("%s %s: %v", name, extFirstArgs(args), time.Since(start).Round(time.Millisecond))
	return stdout.String()
}

// extTail keeps the end of a client's log, where the error usually is.
func extTail(s string) string {
	const keep = 4000
	if len(s) > keep {
		return "…" + s[len(s)-keep:]
	}
	return s
}

func extFirstArgs(args []string) string {
	if len(args) > 4 {
		args = args[:4]
	}
	return strings.Join(args, " ")
}

// kcatRecord is one line of kcat's consumer output in kcatFormat.
type kcatRecord struct {
	topic     string
	partition int32
	offset    int64
	key       string
	value     string
}

// kcatFormat prints one record per line; keys and values in these tests
// never contain spaces.
const kcatFormat = "%t %p %o %k %s\n"

func kcatParse(t *testing.T, out string) []kcatRecord {
	t.Helper()
	var recs []kcatRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 5 {
			t.Fatalf("kcat printed %q, want \"topic partition offset key value\"", line)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("kcat printed %q: bad partition or offset", line)
		}
		recs = append(recs, kcatRecord{topic: f[0], partition: int32(p), offset: o, key: f[3], value: f[4]})
	}
	return recs
}

// kcatLines is n lines "key<i>:<prefix>-<i>" for kcat -P -K:.
func kcatLines(prefix string, first, n int) string {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "key%d:%s-%d\n", i, prefix, i)
	}
	return b.String()
}

// kcatCheck checks that recs are exactly the records kcatLines(prefix, 0, n)
// produced to one topic: each once, with its key, partitions' offsets
// consecutive from 0, and each partition in production order.
func kcatCheck(t *testing.T, recs []kcatRecord, prefix string, n int) {
	t.Helper()
	seen := make([]bool, n)
	nextOffset := map[int32]int64{}
	lastSeq := map[int32]int{}
	for _, r := range recs {
		seqText, ok := strings.CutPrefix(r.value, prefix+"-")
		seq, err := strconv.Atoi(seqText)
		if !ok || err != nil || seq < 0 || seq >= n {
			t.Fatalf("read %q at %s/%d@%d, not a record this test wrote", r.value, r.topic, r.partition, r.offset)
		}
		if seen[seq] {
			t.Fatalf("record %q read twice (again at %s/%d@%d)", r.value, r.topic, r.partition, r.offset)
		}
		seen[seq] = true
		if want := fmt.Sprintf("key%d", seq); r.key != want {
			t.Errorf("record %q has key %q, want %q", r.value, r.key, want)
		}
		if r.offset != nextOffset[r.partition] {
			t.Fatalf("%s/%d: record %q at offset %d, want %d", r.topic, r.partition, r.value, r.offset, nextOffset[r.partition])
		}
		nextOffset[r.partition]++
		if last, ok := lastSeq[r.partition]; ok && seq < last {
			t.Errorf("%s/%d: record %d after record %d: out of production order", r.topic, r.partition, seq, last)
		}
		lastSeq[r.partition] = seq
	}
	for seq, ok := range seen {
		if !ok {
			t.Errorf("record %s-%d never read back (%d of %d read)", prefix, seq, len(recs), n)
			return
		}
	}
}

// extForEachBatch calls fn with every batch the broker stored for
// topic/partition, read through the broker's Go API.
func extForEachBatch(t *testing.T, tb *testBroker, topic string, partition int32, fn func(b []byte, h batch.Header)) {
	t.Helper()
	part, err := tb.Broker.Partition(topic, partition)
	mustf(t, err, "partition %s/%d", topic, partition)
	for offset := int64(0); ; {
		res, err := part.Read(offset, 1<<20)
		mustf(t, err, "read %s/%d@%d", topic, partition, offset)
		if res.Length == 0 {
			return
		}
		data, err := res.AppendTo(nil)
		res.Release()
		mustf(t, err, "copy %s/%d@%d", topic, partition, offset)
		for len(data) > 0 {
			b, rest, err := batch.Next(data)
			mustf(t, err, "split batches of %s/%d", topic, partition)
			h, err := batch.ParseHeader(b)
			mustf(t, err, "batch header of %s/%d", topic, partition)
			fn(b, h)
			offset, data = h.LastOffset()+1, rest
		}
	}
}

// extStoredValues returns the values the broker stored for each partition
// of topic, by offset (data batches only).
func extStoredValues(t *testing.T, tb *testBroker, topic string, partitions int32) map[int32]map[int64]string {
	t.Helper()
	values := map[int32]map[int64]string{}
	for p := range partitions {
		values[p] = map[int64]string{}
		extForEachBatch(t, tb, topic, p, func(b []byte, h batch.Header) {
			if h.Control() {
				return
			}
			it, err := batch.NewIterator(b)
			mustf(t, err, "iterate batch of %s/%d@%d", topic, p, h.BaseOffset)
			for it.Next() {
				values[p][it.Record().Offset] = string(it.Record().Value)
			}
			mustf(t, it.Err(), "records of %s/%d@%d", topic, p, h.BaseOffset)
		})
	}
	return values
}

// kcatStoredCodecs counts the stored batches of topic by codec: proof the
// client really compressed. librdkafka sends a batch uncompressed when
// compressing would not make it smaller (a batch of a record or two, which a
// linger cut short); such a batch is counted under want only if the same
// records compressed with want are indeed no smaller, so a client that
// ignored the codec still fails.
func kcatStoredCodecs(t *testing.T, tb *testBroker, topic string, partitions int32, want batch.Codec) map[batch.Codec]int {
	t.Helper()
	codecs := map[batch.Codec]int{}
	for p := range partitions {
		extForEachBatch(t, tb, topic, p, func(b []byte, h batch.Header) {
			c := h.Codec()
			if c == batch.None && !h.Control() && !compressionHelps(t, b, h, want) {
				c = want
			}
			codecs[c]++
		})
	}
	return codecs
}

// compressionHelps reports whether the uncompressed batch b would be clearly
// smaller compressed with codec: by a tenth, since librdkafka's compressors
// and levels are not the ones franz-go's codecs use here, and a batch that
// only just compresses may come out larger with librdkafka's.
func compressionHelps(t *testing.T, b []byte, h batch.Header, codec batch.Codec) bool {
	t.Helper()
	it, err := batch.NewIterator(b)
	mustf(t, err, "iterate batch @%d", h.BaseOffset)
	var recs []batch.Record
	for it.Next() {
		recs = append(recs, it.Record())
	}
	mustf(t, it.Err(), "records of batch @%d", h.BaseOffset)
	ch := h
	ch.Attributes = h.Attributes&^7 | int16(codec)
	compressed, err := batch.Rebuild(ch, recs, nil)
	mustf(t, err, "compress batch @%d with %v", h.BaseOffset, codec)
	return len(compressed) < len(b)*9/10
}

func kcatRequire(t *testing.T) {
	extRequire(t, "kcat", exec.Command("kcat", "-V"))
}

// TestKcatCompressionCodecs produces through librdkafka with each codec,
// checks the broker stored the client's compressed batches, and reads every
// record back with kcat.
func TestKcatCompressionCodecs(t *testing.T) {
	kcatRequire(t)
	tb := startBroker(t, "")
	const n, partitions = 1000, 3
	codecs := map[string]batch.Codec{"gzip": batch.Gzip, "snappy": batch.Snappy, "lz4": batch.LZ4, "zstd": batch.Zstd}
	for _, name := range []string{"gzip", "snappy", "lz4", "zstd"} {
		t.Run(name, func(t *testing.T) {
			topic := "kcat-" + name
			tb.createTopic(t, topic, partitions, nil)
			extRun(t, 30*time.Second, kcatLines(name, 0, n), nil,
				"kcat", "-P", "-b", tb.Addr, "-t", topic, "-K:", "-z", name, "-X", "acks=all")

			stored := kcatStoredCodecs(t, tb, topic, partitions, codecs[name])
			if len(stored) != 1 || stored[codecs[name]] == 0 {
				t.Errorf("stored batches by codec: %v, want only %v", stored, codecs[name])
			}
			out := extRun(t, 30*time.Second, "", nil,
				"kcat", "-C", "-b", tb.Addr, "-t", topic, "-e", "-q", "-f", kcatFormat)
			kcatCheck(t, kcatParse(t, out), name, n)
		})
	}
}

// TestKcatConsumerGroup consumes with librdkafka's balanced consumer (-G)
// and checks its committed offsets: a second run of the group reads nothing,
// and a third reads exactly what was produced after the first.
func TestKcatConsumerGroup(t *testing.T) {
	kcatRequire(t)
	tb := startBroker(t, "")
	const topic, group, partitions = "kcat-group", "kcat-group-g", 3
	const first, more = 3000, 500
	tb.createTopic(t, topic, partitions, nil)
	extRun(t, 30*time.Second, kcatLines("v", 0, first), nil,
		"kcat", "-P", "-b", tb.Addr, "-t", topic, "-K:", "-z", "lz4")

	consume := func() []kcatRecord {
		t.Helper()
		// librdkafka commits the consumed offsets when kcat closes the
		// consumer at the end of the partitions (-e).
		return kcatParse(t, extRun(t, 40*time.Second, "", nil,
			"kcat", "-b", tb.Addr, "-G", group, "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", kcatFormat, topic))
	}
	kcatCheck(t, consume(), "v", first)
	kcatCheckCommitted(t, tb, group, topic, partitions)

	if again := consume(); len(again) != 0 {
		t.Fatalf("second run of group %s read %d records (first %+v), want none: offsets not committed", group, len(again), again[0])
	}

	extRun(t, 30*time.Second, kcatLines("v", first, more), nil,
		"kcat", "-P", "-b", tb.Addr, "-t", topic, "-K:")
	third := consume()
	if len(third) != more {
		t.Fatalf("third run read %d records, want the %d produced since", len(third), more)
	}
	for _, r := range third {
		seq, err := strconv.Atoi(strings.TrimPrefix(r.value, "v-"))
		if err != nil || seq < first {
			t.Fatalf("third run read %q at %d@%d, produced before the commit", r.value, r.partition, r.offset)
		}
	}
	kcatCheckCommitted(t, tb, group, topic, partitions)
}

// kcatCheckCommitted checks the group committed every partition's high
// watermark.
func kcatCheckCommitted(t *testing.T, tb *testBroker, group, topic string, partitions int32) {
	t.Helper()
	for p := range partitions {
		part, err := tb.Broker.Partition(topic, p)
		mustf(t, err, "partition %s/%d", topic, p)
		_, hw, _ := part.Offsets()
		got, _, ok := tb.Broker.Groups().Committed(group, topic, p)
		if !ok || got != hw {
			t.Errorf("group %s committed %s/%d = %d (present %v), want the high watermark %d", group, topic, p, got, ok, hw)
		}
	}
}

// TestCompressionHelps checks the rule kcatStoredCodecs forgives librdkafka's
// uncompressed batches by: a batch of one short record grows under every
// codec, a batch of a thousand similar records shrinks under every codec.
func TestCompressionHelps(t *testing.T) {
	build := func(n int) ([]byte, batch.Header) {
		b := batch.NewBuilder(batch.BuilderOptions{})
		for i := range n {
			b.Add(batch.Record{Key: fmt.Appendf(nil, "key%d", i), Value: fmt.Appendf(nil, "zstd-%d", i), Timestamp: 1})
		}
		data, err := b.Build(nil)
		mustf(t, err, "build batch of %d", n)
		h, err := batch.ParseHeader(data)
		mustf(t, err, "parse batch of %d", n)
		return data, h
	}
	one, oneH := build(1)
	many, manyH := build(1000)
	for _, c := range []batch.Codec{batch.Gzip, batch.Snappy, batch.LZ4, batch.Zstd} {
		if compressionHelps(t, one, oneH, c) {
			t.Errorf("%v: compressing one short record made it smaller", c)
		}
		if !compressionHelps(t, many, manyH, c) {
			t.Errorf("%v: compressing 1000 similar records did not make them smaller", c)
		}
	}
}
