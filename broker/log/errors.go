package log

import (
	"errors"
	"fmt"
)

var (
	// ErrConfig is returned by Open for an impossible configuration.
	ErrConfig = errors.New("log: invalid config")
	// ErrInvalidBatch wraps the batch package's reason why an appended
	// batch was refused; nothing of the append was written.
	ErrInvalidBatch = errors.New("log: invalid batch")
	// ErrBatchTooLarge is returned for a batch above Config.MaxBatchBytes
	// (Kafka's MESSAGE_TOO_LARGE).
	ErrBatchTooLarge = errors.New("log: batch too large")
	// ErrOffsetOutOfRange is returned by Read for an offset below the log
	// start or above the high watermark (Kafka's OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("log: offset out of range")
	// ErrCorrupt reports stored data that fails validation where it cannot
	// be a torn write; it is wrapped in a *CorruptionError.
	ErrCorrupt = errors.New("log: corrupt data")
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("log: closed")
	// ErrFailed is returned after a write or fsync failed in a way that
	// leaves the file's durable state unknown; the log must be reopened,
	// which re-validates its tail.
	ErrFailed = errors.New("log: failed, reopen required")
)

// CorruptionError names the file and byte position of stored data that does
// not validate. It wraps ErrCorrupt and the underlying reason.
type CorruptionError struct {
	File     string
	Position int64
	Err      error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("log: corrupt data in %s at byte %d: %v", e.File, e.Position, e.Err)
}

// Unwrap lets errors.Is match both ErrCorrupt and the batch-level reason.
func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }
