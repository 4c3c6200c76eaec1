package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// minRequestSize is the smallest request header: api key, api version
	// and correlation id (header v0, which has no client id).
	minRequestSize = 8
	// initialBodyBuffer caps the first allocation for a request body; the
	// buffer grows only as bytes arrive, so a client that claims a large
	// request and sends nothing costs no more than what it sent.
	initialBodyBuffer = 64 << 10
)

// readFrameSize reads a request's int32 size prefix and checks it before
// anything of that size is allocated. A clean io.EOF means the client closed
// between requests.
func readFrameSize(r io.Reader, scratch *[4]byte, maxSize int32) (int32, error) {
	if _, err := io.ReadFull(r, scratch[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("%w: size prefix cut short", errTruncatedFrame)
		}
		return 0, err
	}
	size := int32(binary.BigEndian.Uint32(scratch[:]))
	if size < minRequestSize || size > maxSize {
		return 0, fmt.Errorf("%w: %d bytes, allowed %d..%d", errFrameSize, size, minRequestSize, maxSize)
	}
	return size, nil
}

// readFrameBody reads size bytes, growing the buffer as they arrive.
func readFrameBody(r io.Reader, size int32) ([]byte, error) {
	buf := make([]byte, 0, min(int(size), initialBodyBuffer))
	for len(buf) < int(size) {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(int(size), 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, fmt.Errorf("%w: got %d of %d bytes: %w", errTruncatedFrame, len(buf), size, err)
		}
	}
	return buf, nil
}

// requestHeader is a decoded Kafka request header.
type requestHeader struct {
	apiKey        int16
	apiVersion    int16
	correlationID int32
	clientID      string
	headerVersion int16
}

// decodedRequest is a request ready for its handler.
type decodedRequest struct {
	header requestHeader
	msg    kmsg.Request
	route  route
	// flexibleResponseHeader says whether the response header carries a
	// tagged-field section.
	flexibleResponseHeader bool
}

// decodeRequest decodes a request frame (header and body, without the size
// prefix) for a key and version the table serves. Strings are copied out of
// frame; byte fields (produce records) keep pointing into it.
//
// ApiVersions at a version the server does not serve is not an error: its
// body cannot be decoded, so msg is an empty ApiVersionsRequest at that
// version and the handler answers UNSUPPORTED_VERSION.
func (t *routeTable) decodeRequest(frame []byte) (*decodedRequest, error) {
	if len(frame) < minRequestSize {
		return nil, fmt.Errorf("%w: %d bytes", errMalformedHeader, len(frame))
	}
	h := requestHeader{
		apiKey:        int16(binary.BigEndian.Uint16(frame[0:])),
		apiVersion:    int16(binary.BigEndian.Uint16(frame[2:])),
		correlationID: int32(binary.BigEndian.Uint32(frame[4:])),
	}
	fail := func(err error) (*decodedRequest, error) {
		return nil, &requestError{apiKey: h.apiKey, apiVersion: h.apiVersion, correlationID: h.correlationID, err: err}
	}
	rt, ok := t.lookup(h.apiKey)
	if !ok {
		return fail(errUnknownAPIKey)
	}
	if !rt.serves(h.apiVersion) {
		if h.apiKey != apiVersionsKey {
			return fail(fmt.Errorf("%w: served v%d..v%d", errUnsupportedVersion, rt.minVersion, rt.maxVersion))
		}
		// Kafka reads only the client id of an ApiVersions request it
		// cannot decode; a header it cannot read either is no reason to
		// withhold the answer that lets the client downgrade.
		h.headerVersion = 1
		h.clientID, _, _ = readNullableString(frame[minRequestSize:])
		msg := &kmsg.ApiVersionsRequest{Version: h.apiVersion}
		return &decodedRequest{header: h, msg: msg, route: rt}, nil
	}

	msg := kmsg.RequestForKey(h.apiKey)
	msg.SetVersion(h.apiVersion)
	h.headerVersion = requestHeaderVersion(msg)
	body := frame[minRequestSize:]
	if h.headerVersion >= 1 {
		id, rest, err := readNullableString(body)
		if err != nil {
			return fail(fmt.Errorf("%w: client id: %w", errMalformedHeader, err))
		}
		h.clientID, body = id, rest
	}
	if h.headerVersion >= 2 {
		rest, err := skipTaggedFields(body)
		if err != nil {
			return fail(fmt.Errorf("%w: tagged fields: %w", errMalformedHeader, err))
		}
		body = rest
	}
	if err := msg.ReadFrom(body); err != nil {
		return fail(fmt.Errorf("%w: %w", errMalformedBody, err))
	}
	return &decodedRequest{
		header:                 h,
		msg:                    msg,
		route:                  rt,
		flexibleResponseHeader: msg.IsFlexible() && h.apiKey != apiVersionsKey,
	}, nil
}

// requestHeaderVersion follows Kafka: flexible requests use header v2,
// ControlledShutdown v0 predates the client id (v0), all others use v1.
func requestHeaderVersion(msg kmsg.Request) int16 {
	switch {
	case msg.IsFlexible():
		return 2
	case msg.Key() == 7 && msg.GetVersion() == 0:
		return 0
	default:
		return 1
	}
}

var errShortField = errors.New("field runs past the end of the request")

// readNullableString reads an int16-length string (the header's client id
// keeps this encoding even in flexible versions); null reads as "".
func readNullableString(b []byte) (string, []byte, error) {
	if len(b) < 2 {
		return "", nil, errShortField
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	switch {
	case n == -1:
		return "", b, nil
	case n < 0:
		return "", nil, fmt.Errorf("negative string length %d", n)
	case int(n) > len(b):
		return "", nil, errShortField
	}
	return string(b[:n]), b[n:], nil
}

// skipTaggedFields skips a tagged-field section. No request header tags are
// defined, so their values are not kept.
func skipTaggedFields(b []byte) ([]byte, error) {
	count, b, err := readUvarint32(b)
	if err != nil {
		return nil, err
	}
	for range count {
		if _, b, err = readUvarint32(b); err != nil { // tag number
			return nil, err
		}
		var size uint32
		if size, b, err = readUvarint32(b); err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(b)) {
			return nil, errShortField
		}
		b = b[size:]
	}
	return b, nil
}

// readUvarint32 reads an unsigned varint of at most 32 bits, the kind the
// protocol uses for counts and sizes.
func readUvarint32(b []byte) (uint32, []byte, error) {
	v, n := binary.Uvarint(b)
	switch {
	case n == 0:
		return 0, nil, errShortField
	case n < 0 || v > 1<<32-1:
		return 0, nil, errors.New("varint overflows 32 bits")
	}
	return uint32(v), b[n:], nil
}
