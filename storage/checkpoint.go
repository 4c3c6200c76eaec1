package storage

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// checkpointHeader is the first line of a checkpoint file, with the format
// version. Part of the format.
const checkpointHeader = "eddy-checkpoint 1"

// checkpointCRCPrefix starts the last line. Part of the format.
const checkpointCRCPrefix = "crc32c "

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteCheckpoint replaces the checkpoint file at path with offsets, the
// changelog partitions ("topic-partition") mapped to the offset up to which
// the local stores contain them. The meaning of an offset (last applied or
// next to read) is the engine's; this file only keeps it.
//
// The write is atomic: a temporary file in the same directory is written,
// fsynced and renamed over path, then the directory is fsynced. After a
// crash path holds either the old or the new checkpoint, whole.
func WriteCheckpoint(path string, offsets map[string]int64) error {
	data := encodeCheckpoint(offsets)
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, base+".tmp-*")
	if err != nil {
		return fmt.Errorf("storage: write checkpoint %s: %w", path, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("storage: write checkpoint %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("storage: write checkpoint %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("storage: write checkpoint %s: %w", path, err)
	}
	return nil
}

// ReadCheckpoint reads the checkpoint file at path. A missing file is an
// empty map and no error: there is no local state to trust. A file that
// fails its checksum or does not parse returns ErrCheckpointCorrupt.
func ReadCheckpoint(path string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("storage: read checkpoint %s: %w", path, err)
	}
	offsets, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("storage: read checkpoint %s: %w: %s", path, ErrCheckpointCorrupt, err)
	}
	return offsets, nil
}

// RemoveCheckpoint deletes the checkpoint file at path and fsyncs its
// directory, so that a crash before the next WriteCheckpoint finds no
// checkpoint (an engine running exactly-once does this while it has
// uncommitted writes in its stores). A missing file is not an error.
func RemoveCheckpoint(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: remove checkpoint %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("storage: remove checkpoint %s: %w", path, err)
	}
	return nil
}

// encodeCheckpoint renders offsets in the format described in doc.go, keys
// sorted so that equal maps give equal files.
func encodeCheckpoint(offsets map[string]int64) []byte {
	keys := make([]string, 0, len(offsets))
	for k := range offsets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b bytes.Buffer
	b.WriteString(checkpointHeader)
	b.WriteByte('\n')
	b.WriteString(strconv.Itoa(len(keys)))
	b.WriteByte('\n')
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(offsets[k], 10))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s%08x\n", checkpointCRCPrefix, crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

// decodeCheckpoint parses and verifies a checkpoint file's bytes; its
// errors describe the defect (the caller adds ErrCheckpointCorrupt).
func decodeCheckpoint(data []byte) (map[string]int64, error) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, errors.New("missing final newline (torn write?)")
	}
	body := data[:len(data)-1]
	cut := bytes.LastIndexByte(body, '\n')
	if cut < 0 {
		return nil, errors.New("no checksum line")
	}
	covered, crcLine := data[:cut+1], string(body[cut+1:])
	hexSum, ok := strings.CutPrefix(crcLine, checkpointCRCPrefix)
	if !ok {
		return nil, fmt.Errorf("last line %q is not a checksum", crcLine)
	}
	// Compared as text: the format allows one spelling of a checksum.
	if got := fmt.Sprintf("%08x", crc32.Checksum(covered, castagnoli)); got != hexSum {
		return nil, fmt.Errorf("checksum %s, file says %q", got, hexSum)
	}

	lines := strings.Split(strings.TrimSuffix(string(covered), "\n"), "\n")
	if lines[0] != checkpointHeader {
		return nil, fmt.Errorf("header %q, want %q", lines[0], checkpointHeader)
	}
	if len(lines) < 2 {
		return nil, errors.New("no entry count")
	}
	count, err := strconv.Atoi(lines[1])
	if err != nil || count != len(lines)-2 {
		return nil, fmt.Errorf("entry count %q for %d entries", lines[1], len(lines)-2)
	}
	offsets := make(map[string]int64, count)
	for _, line := range lines[2:] {
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("entry %q has no offset", line)
		}
		key, err := strconv.Unquote(line[:sp])
		if err != nil {
			return nil, fmt.Errorf("entry %q: bad partition name", line)
		}
		off, err := strconv.ParseInt(line[sp+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %q: bad offset", line)
		}
		if _, dup := offsets[key]; dup {
			return nil, fmt.Errorf("partition %q listed twice", key)
		}
		offsets[key] = off
	}
	return offsets, nil
}
