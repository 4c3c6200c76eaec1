package serde

import "errors"

var (
	// ErrSerialize is wrapped by every error returned from Serialize: the
	// value could not be turned into bytes (for example, JSON cannot encode a
	// channel or a NaN, or a [Func] serde has no serialize function).
	ErrSerialize = errors.New("serde: cannot serialize")

	// ErrDeserialize is wrapped by every error returned from Deserialize: the
	// record's bytes are not a valid encoding for the serde (wrong length,
	// malformed JSON or protobuf, or a [Func] serde's function failed). The
	// record is bad, not the process: the engine hands it to the bad-record
	// handler.
	ErrDeserialize = errors.New("serde: cannot deserialize")
)
