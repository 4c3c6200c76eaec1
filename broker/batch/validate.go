package batch

import (
	"fmt"
)

// Validate checks that b holds exactly one complete, well-formed v2 batch
// and returns its header. It checks, in order:
//
//   - len(b) >= HeaderSize (ErrTruncated);
//   - batchLength >= 49, the header after the field (ErrBadLength);
//   - 12+batchLength == len(b) (ErrTruncated if shorter, ErrBadLength if
//     longer);
//   - magic == 2 (ErrBadMagic);
//   - the CRC-32C over b[21:] (ErrBadCRC);
//   - the codec is known (ErrBadCodec);
//   - recordCount >= 0 and lastOffsetDelta >= -1 (ErrBadCount);
//   - the count against the offsets (ErrBadCount): with strict (produce
//     input, compressed or not) recordCount must equal lastOffsetDelta+1;
//     otherwise (stored batches, which compaction may thin out) recordCount
//     must not exceed lastOffsetDelta+1.
//
// Validate does not decompress or decode the records: that is the
// [Iterator]'s job, which reports ErrBadRecord. Errors are [*FieldError]s
// naming the field and its value.
func Validate(b []byte, strict bool) (Header, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Header{}, err
	}
	if h.Length < minLength {
		return h, fieldError(ErrBadLength, "batchLength", int64(h.Length), fmt.Sprintf(">= %d", minLength))
	}
	if size := h.Size(); size > len(b) {
		return h, fieldError(ErrTruncated, "bytes", int64(len(b)), fmt.Sprintf("%d (12 + batchLength)", size))
	} else if size < len(b) {
		return h, fieldError(ErrBadLength, "batchLength", int64(h.Length), fmt.Sprintf("%d (buffer size - 12)", len(b)-lengthPrefix))
	}
	if h.Magic != Magic {
		return h, fieldError(ErrBadMagic, "magic", int64(h.Magic), "2")
	}
	if sum := Checksum(b); sum != h.CRC {
		return h, fieldError(ErrBadCRC, "crc", int64(h.CRC), fmt.Sprintf("%d (computed)", sum))
	}
	if c := h.Codec(); !c.Known() {
		return h, fieldError(ErrBadCodec, "attributes codec", int64(c), "0-4")
	}
	if err := checkCount(&h, strict); err != nil {
		return h, err
	}
	return h, nil
}

func checkCount(h *Header, strict bool) error {
	if h.RecordCount < 0 {
		return fieldError(ErrBadCount, "recordCount", int64(h.RecordCount), ">= 0")
	}
	if h.LastOffsetDelta < -1 {
		return fieldError(ErrBadCount, "lastOffsetDelta", int64(h.LastOffsetDelta), ">= -1")
	}
	spanned := int64(h.LastOffsetDelta) + 1
	if strict && int64(h.RecordCount) != spanned {
		return fieldError(ErrBadCount, "recordCount", int64(h.RecordCount), fmt.Sprintf("%d (lastOffsetDelta + 1)", spanned))
	}
	if int64(h.RecordCount) > spanned {
		return fieldError(ErrBadCount, "recordCount", int64(h.RecordCount), fmt.Sprintf("<= %d (lastOffsetDelta + 1)", spanned))
	}
	return nil
}
