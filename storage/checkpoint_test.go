package storage

import (
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".checkpoint")
	got, err := ReadCheckpoint(path)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("missing checkpoint = %v, %v; want an empty map", got, err)
	}
	cases := []map[string]int64{
		{},
		{"counts-changelog-0": 1042},
		{
			"counts-changelog-0":     0,
			"counts-changelog-11":    math.MaxInt64,
			"odd name with spaces 3": -1,
			"quote\"and\\slash-1":    7,
			"new\nline-2":            8,
			"ünïcødé-0":              9,
			"":                       10,
		},
	}
	for _, offsets := range cases {
		if err := WriteCheckpoint(path, offsets); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, offsets) {
			t.Fatalf("round trip = %v, want %v", got, offsets)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries after writes, want only the checkpoint (temp files left?)", len(entries))
	}
	if err := RemoveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadCheckpoint(path); err != nil || len(got) != 0 {
		t.Fatalf("after RemoveCheckpoint = %v, %v", got, err)
	}
	if err := RemoveCheckpoint(path); err != nil {
		t.Fatalf("RemoveCheckpoint of a missing file: %v", err)
	}
}

func TestCheckpointFormatIsReadable(t *testing.T) {
	got := string(encodeCheckpoint(map[string]int64{"b-1": 5, "a-0": 12}))
	want := "eddy-checkpoint 1\n2\n\"a-0\" 12\n\"b-1\" 5\ncrc32c "
	if !strings.HasPrefix(got, want) || len(got) != len(want)+9 {
		t.Fatalf("encoding =\n%s\nwant it to start\n%s", got, want)
	}
}

// TestCheckpointCorruptionDetected tears the file at every length and
// flips every byte: each damaged file must be refused, never misread.
func TestCheckpointCorruptionDetected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp")
	offsets := map[string]int64{"orders-changelog-0": 123456, "totals-changelog-3": 99}
	if err := WriteCheckpoint(path, offsets); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadCheckpoint(path)
		if !errors.Is(err, ErrCheckpointCorrupt) {
			t.Fatalf("%s: ReadCheckpoint = %v, %v; want ErrCheckpointCorrupt", what, got, err)
		}
		if !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: error %q does not name the file", what, err)
		}
	}
	for n := range len(good) {
		check(fmt.Sprintf("torn at %d", n), good[:n])
	}
	for i := range good {
		for _, mask := range []byte{0x01, 0x20, 0x80} {
			bad := []byte(string(good))
			bad[i] ^= mask
			check("flipped byte", bad)
		}
	}
	check("appended garbage", append([]byte(string(good)), "junk\n"...))

	// A well-formed file of another version is refused too.
	other := strings.Replace(string(encodeCheckpoint(offsets)), "eddy-checkpoint 1", "eddy-checkpoint 2", 1)
	body := other[:strings.LastIndex(other, "crc32c ")]
	check("version 2", encodeWithCRC(body))
	check("count mismatch", encodeWithCRC("eddy-checkpoint 1\n3\n\"a-0\" 1\n"))
	check("duplicate", encodeWithCRC("eddy-checkpoint 1\n2\n\"a-0\" 1\n\"a-0\" 2\n"))
	check("unquoted name", encodeWithCRC("eddy-checkpoint 1\n1\na-0 1\n"))
	check("bad offset", encodeWithCRC("eddy-checkpoint 1\n1\n\"a-0\" x\n"))
}

// encodeWithCRC appends a valid checksum line, to test the parser behind
// the checksum.
func encodeWithCRC(body string) []byte {
	return []byte(body + checkpointCRCPrefix + crcHex([]byte(body)) + "\n")
}

func crcHex(b []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(b, castagnoli))
}

func TestCheckpointWriteErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "cp")
	if err := WriteCheckpoint(missing, map[string]int64{"a": 1}); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	dir := t.TempDir()
	if err := WriteCheckpoint(dir, map[string]int64{"a": 1}); err == nil {
		t.Fatal("write over a directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("failed write left %d temp files", len(entries))
	}
	if _, err := ReadCheckpoint(dir); err == nil || errors.Is(err, ErrCheckpointCorrupt) {
		t.Fatalf("reading a directory = %v; want an I/O error, not corruption", err)
	}
}
