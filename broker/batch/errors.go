package batch

import (
	"errors"
	"fmt"
)

// The sentinel errors below classify what is wrong with a batch. Functions
// return them wrapped in a [*FieldError] or [*RecordError] that says where;
// test with errors.Is.
var (
	// ErrTruncated is returned when a buffer holds fewer bytes than the
	// header, or than the batchLength field says the batch has. At the end
	// of a log it means a partial (torn) write, not corruption.
	ErrTruncated = errors.New("batch: truncated")
	// ErrBadLength is returned when the batchLength field is negative, too
	// small to hold the header, or disagrees with the bytes given.
	ErrBadLength = errors.New("batch: bad length")
	// ErrBadMagic is returned when the magic byte is not 2 (only RecordBatch
	// v2 is supported).
	ErrBadMagic = errors.New("batch: bad magic")
	// ErrBadCRC is returned when the CRC-32C stored in the header does not
	// match the bytes it covers.
	ErrBadCRC = errors.New("batch: bad crc")
	// ErrBadCount is returned when recordCount is negative or inconsistent
	// with lastOffsetDelta.
	ErrBadCount = errors.New("batch: bad record count")
	// ErrBadCodec is returned when the compression bits name no known codec.
	ErrBadCodec = errors.New("batch: bad compression codec")
	// ErrBadRecord is returned when the records section does not decode:
	// it fails to decompress, a record is malformed, or the records do not
	// match the header.
	ErrBadRecord = errors.New("batch: bad record")
	// ErrBadOptions is returned by [Builder.Build] when the builder's options
	// cannot produce a valid batch (for example a transactional batch with
	// no producer id).
	ErrBadOptions = errors.New("batch: bad builder options")
)

// FieldError reports a header field (or the size of the buffer) holding an
// invalid value. Err is one of the package's sentinels.
type FieldError struct {
	Err   error  // sentinel: ErrTruncated, ErrBadLength, ErrBadMagic, ...
	Field string // field name as in the format table, e.g. "magic"
	Value int64  // the value found
	Want  string // what was expected, for the message
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s is %d, want %s", e.Err, e.Field, e.Value, e.Want)
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldError(sentinel error, field string, value int64, want string) error {
	return &FieldError{Err: sentinel, Field: field, Value: value, Want: want}
}

// RecordError reports a records section that does not decode. It matches
// ErrBadRecord with errors.Is, and also the underlying Cause (a decompressor
// error) when there is one.
type RecordError struct {
	// Index is the position of the failing record in the batch (0-based),
	// or -1 when the whole records section failed (decompression).
	Index  int
	Reason string
	Cause  error
}

func (e *RecordError) Error() string {
	where := "records section"
	if e.Index >= 0 {
		where = fmt.Sprintf("record %d", e.Index)
	}
	if e.Cause != nil {
		return fmt.Sprintf("%v: %s: %s: %v", ErrBadRecord, where, e.Reason, e.Cause)
	}
	return fmt.Sprintf("%v: %s: %s", ErrBadRecord, where, e.Reason)
}

func (e *RecordError) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrBadRecord, e.Cause}
	}
	return []error{ErrBadRecord}
}
