package batch

// Record is one record inside a batch. For uncompressed batches read through
// an [Iterator], Key, Value and header values alias the batch bytes (no
// copy); for compressed ones they alias the iterator's decompression buffer.
type Record struct {
	Offset    int64  // absolute: BaseOffset + offsetDelta
	Timestamp int64  // ms since epoch: FirstTimestamp + timestampDelta (MaxTimestamp if LogAppendTime)
	Key       []byte // nil for a null key
	Value     []byte // nil for a null value (tombstone)
	Headers   []RecordHeader
}

// RecordHeader is one key/value header of a record. Keys are never null;
// a nil Value is a null value.
type RecordHeader struct {
	Key   string
	Value []byte
}

// nullableSize is the encoded size of a varint-length-prefixed byte string,
// where nil encodes as length -1.
func nullableSize(b []byte) int {
	if b == nil {
		return 1
	}
	return varintSize(int64(len(b))) + len(b)
}

func appendNullable(dst, b []byte) []byte {
	if b == nil {
		return appendVarint(dst, -1)
	}
	dst = appendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// recordBodySize is the encoded size of r after its length field.
func recordBodySize(r *Record, timestampDelta int64, offsetDelta int32) int {
	n := 1 + varintSize(timestampDelta) + varintSize(int64(offsetDelta)) +
		nullableSize(r.Key) + nullableSize(r.Value) + varintSize(int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		n += varintSize(int64(len(h.Key))) + len(h.Key) + nullableSize(h.Value)
	}
	return n
}

// appendRecord appends r in the record layout of the format (see doc.go).
func appendRecord(dst []byte, r *Record, bodySize int, timestampDelta int64, offsetDelta int32) []byte {
	dst = appendVarint(dst, int64(bodySize))
	dst = append(dst, 0) // attributes: unused
	dst = appendVarint(dst, timestampDelta)
	dst = appendVarint(dst, int64(offsetDelta))
	dst = appendNullable(dst, r.Key)
	dst = appendNullable(dst, r.Value)
	dst = appendVarint(dst, int64(len(r.Headers)))
	for i := range r.Headers {
		h := &r.Headers[i]
		dst = appendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendNullable(dst, h.Value)
	}
	return dst
}
