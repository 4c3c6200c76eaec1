package batch

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const goldenPath = "testdata/golden_none.hex"

// goldenBatch is small enough to check by hand against the format table in
// doc.go. Only the uncompressed batch is golden: compressed bytes depend on
// the codec library's version, and the interop tests cover those.
func goldenBatch(t *testing.T) []byte {
	return build(t, BuilderOptions{ProducerID: 1000, ProducerEpoch: 1, BaseSequence: 5}, []Record{
		{Timestamp: 1_700_000_000_000, Key: []byte("k1"), Value: []byte("hello"),
			Headers: []RecordHeader{{Key: "h", Value: []byte("v")}}},
		{Timestamp: 1_699_999_999_990, Key: nil, Value: []byte{}},     // delta -10, null key, empty value
		{Timestamp: 1_700_000_000_005, Key: []byte("k2"), Value: nil}, // tombstone
	})
}

func TestGoldenBytes(t *testing.T) {
	got := goldenBatch(t)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, []byte(annotate(got)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	want := parseAnnotated(t, string(text))
	if !bytes.Equal(got, want) {
		t.Fatalf("Build differs from %s:\n got %x\nwant %x\n%s", goldenPath, got, want, annotate(got))
	}
	if _, err := Validate(want, true); err != nil {
		t.Fatalf("golden batch does not validate: %v", err)
	}
}

// parseAnnotated reads hex bytes, ignoring whitespace and # comments.
func parseAnnotated(t *testing.T, text string) []byte {
	var out []byte
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.Join(strings.Fields(line), "")
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", goldenPath, i+1, err)
		}
		out = append(out, b...)
	}
	return out
}

// annotate dumps a valid uncompressed batch one field per line.
func annotate(b []byte) string {
	var sb strings.Builder
	sb.WriteString("# An uncompressed RecordBatch v2 built by goldenBatch in golden_test.go,\n")
	sb.WriteString("# one field per line (hex, then the decoded value). Regenerate with\n")
	sb.WriteString("# go test -run TestGoldenBytes -update, and review the diff by hand.\n")
	line := func(field []byte, format string, args ...any) {
		fmt.Fprintf(&sb, "%-20x # %s\n", field, fmt.Sprintf(format, args...))
	}
	h, _ := ParseHeader(b)
	fields := []struct {
		name  string
		start int
		value any
	}{
		{"baseOffset", OffsetBaseOffset, h.BaseOffset}, {"batchLength", OffsetLength, h.Length},
		{"partitionLeaderEpoch", OffsetPartitionLeaderEpoch, h.PartitionLeaderEpoch}, {"magic", OffsetMagic, h.Magic},
		{"crc", OffsetCRC, fmt.Sprintf("%#08x", h.CRC)}, {"attributes", OffsetAttributes, h.Attributes},
		{"lastOffsetDelta", OffsetLastOffsetDelta, h.LastOffsetDelta}, {"firstTimestamp", OffsetFirstTimestamp, h.FirstTimestamp},
		{"maxTimestamp", OffsetMaxTimestamp, h.MaxTimestamp}, {"producerId", OffsetProducerID, h.ProducerID},
		{"producerEpoch", OffsetProducerEpoch, h.ProducerEpoch}, {"baseSequence", OffsetBaseSequence, h.BaseSequence},
		{"recordCount", OffsetRecordCount, h.RecordCount},
	}
	for i, f := range fields {
		end := HeaderSize
		if i+1 < len(fields) {
			end = fields[i+1].start
		}
		line(b[f.start:end], "%s = %v", f.name, f.value)
	}
	rest := b[HeaderSize:]
	varint := func(name string) int64 {
		v, n := readVarlong(rest)
		line(rest[:n], "%s = %d", name, v)
		rest = rest[n:]
		return v
	}
	bytesField := func(name string) {
		n := varint(name + " length")
		if n > 0 {
			line(rest[:n], "%s = %q", name, rest[:n])
			rest = rest[n:]
		}
	}
	for i := 0; len(rest) > 0; i++ {
		fmt.Fprintf(&sb, "# record %d\n", i)
		varint("length")
		line(rest[:1], "attributes")
		rest = rest[1:]
		varint("timestampDelta")
		varint("offsetDelta")
		bytesField("key")
		bytesField("value")
		for j := varint("headerCount"); j > 0; j-- {
			bytesField("header key")
			bytesField("header value")
		}
	}
	return sb.String()
}
