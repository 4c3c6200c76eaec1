package wire

import (
	"io"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Response is a response body a handler hands back for the server to frame
// and write. The server writes the size prefix and the response header
// itself; the body must be exactly Size bytes.
//
// Message covers ordinary kmsg responses. Pieces covers responses assembled
// from byte slices and file spans, which is how Fetch sends stored record
// batches without copying them.
type Response interface {
	// Size is the number of bytes WriteBody writes.
	Size() int
	// WriteBody writes the body to w. It runs on the connection's writer
	// goroutine, after every earlier response on the connection.
	WriteBody(w *ConnWriter) error
}

// Releaser is implemented by responses that hold resources until written,
// such as the segment files behind Spans. The server calls Release exactly
// once per response: after writing it, or when dropping it because the
// connection closed.
type Releaser interface {
	Release()
}

// Message wraps a kmsg response. Its version must be the request's (use
// req.ResponseKind()); the server encodes it straight into the connection's
// write buffer.
func Message(m kmsg.Response) Response {
	return &messageResponse{msg: m}
}

type messageResponse struct {
	msg kmsg.Response
	enc []byte // filled only when Size or WriteBody is used directly
}

func (r *messageResponse) encode() []byte {
	if r.enc == nil {
		r.enc = r.msg.AppendTo(nil)
	}
	return r.enc
}

func (r *messageResponse) Size() int { return len(r.encode()) }

func (r *messageResponse) WriteBody(w *ConnWriter) error {
	_, err := w.Write(r.encode())
	return err
}

// Span is a region of a file. File is read with ReadAt only, never through
// its shared position; if it also has an operating-system descriptor
// (interface{ Fd() uintptr }, as *os.File and the broker's real files do),
// the span is sent with sendfile(2) where the platform and connection allow.
type Span struct {
	File   io.ReaderAt
	Offset int64
	Length int64
}

// Pieces is a response body assembled from byte slices and file spans,
// written in the order they were appended. The slices are not copied: they
// must stay unchanged until the response is released.
type Pieces struct {
	parts   []piece
	size    int
	release func()
}

// piece is either bytes or, when span.File is set, a span.
type piece struct {
	bytes []byte
	span  Span
}

// AppendBytes appends b to the body.
func (p *Pieces) AppendBytes(b []byte) {
	if len(b) == 0 {
		return
	}
	p.parts = append(p.parts, piece{bytes: b})
	p.size += len(b)
}

// AppendSpan appends the bytes of s to the body. The file must hold them
// when the response is written; a file that turns out shorter closes the
// connection (see ErrShortSpan), as does a negative offset or length.
func (p *Pieces) AppendSpan(s Span) {
	if s.Length == 0 {
		return
	}
	p.parts = append(p.parts, piece{span: s})
	p.size += int(s.Length)
}

// OnRelease sets a function run once when the response has been written or
// dropped, for example to unpin the log segments its spans read from.
func (p *Pieces) OnRelease(fn func()) { p.release = fn }

// Size is the body's length.
func (p *Pieces) Size() int { return p.size }

// WriteBody writes each piece in order.
func (p *Pieces) WriteBody(w *ConnWriter) error {
	for _, part := range p.parts {
		if part.span.File != nil {
			if err := w.WriteSpan(part.span); err != nil {
				return err
			}
			continue
		}
		if _, err := w.Write(part.bytes); err != nil {
			return err
		}
	}
	return nil
}

// Release runs the function set with OnRelease, once.
func (p *Pieces) Release() {
	if fn := p.release; fn != nil {
		p.release = nil
		fn()
	}
}
