package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// flushThreshold is how much buffered response data triggers a write
	// even while more responses are ready.
	flushThreshold = 64 << 10
	// maxRetainedBuffer caps the buffer kept between flushes, so one huge
	// response does not pin its size for the connection's lifetime.
	maxRetainedBuffer = 1 << 20
	// minSendfileSpan is the smallest span worth a flush and a sendfile
	// call; shorter spans are copied into the buffer and coalesce with the
	// bytes around them.
	minSendfileSpan = 16 << 10
	// copyChunk is the read size when a span is copied.
	copyChunk = 64 << 10
)

// ConnWriter writes responses to one connection. Bytes are buffered and
// written together; file spans go out with sendfile(2) where possible. It is
// used only by the connection's writer goroutine, which hands it to
// Response.WriteBody.
type ConnWriter struct {
	conn net.Conn
	// raw is the socket's descriptor access, nil for connections without
	// one (TLS, in-memory pipes); spans are then copied.
	raw syscall.RawConn
	buf []byte
	// written counts bytes accepted since the count was last read, so the
	// server can check a response wrote exactly the size it announced.
	written int64
	// sentWithSendfile counts span bytes the kernel copied, for tests and
	// diagnostics.
	sentWithSendfile int64
}

func newConnWriter(conn net.Conn) *ConnWriter {
	w := &ConnWriter{conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// Write buffers p.
func (w *ConnWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	w.written += int64(len(p))
	if len(w.buf) >= flushThreshold {
		if err := w.Flush(); err != nil {
			return len(p), err
		}
	}
	return len(p), nil
}

// WriteSpan writes the bytes of s after everything written before it.
func (w *ConnWriter) WriteSpan(s Span) error {
	if s.Offset < 0 || s.Length < 0 {
		return fmt.Errorf("wire: span at offset %d, length %d: negative", s.Offset, s.Length)
	}
	if s.Length == 0 {
		return nil
	}
	fd, hasFd := descriptor(s.File)
	if !hasFd || w.raw == nil || s.Length < minSendfileSpan {
		return w.copySpan(s)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sent, err := sendfile(w.raw, fd, s.Offset, s.Length)
	w.written += sent
	w.sentWithSendfile += sent
	if errors.Is(err, errSendfileUnsupported) {
		return w.copySpan(Span{File: s.File, Offset: s.Offset + sent, Length: s.Length - sent})
	}
	if err != nil {
		return fmt.Errorf("wire: sendfile of %d bytes at offset %d: %w", s.Length, s.Offset, err)
	}
	return nil
}

// descriptor returns the file's OS descriptor, if it has a usable one.
func descriptor(f io.ReaderAt) (uintptr, bool) {
	fdf, ok := f.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := fdf.Fd()
	// *os.File reports ^0 once closed; ReadAt then gives the real error.
	return fd, fd != ^uintptr(0)
}

// copySpan reads the span into the buffer with positional reads.
func (w *ConnWriter) copySpan(s Span) error {
	for done := int64(0); done < s.Length; {
		n := int(min(s.Length-done, copyChunk))
		start := len(w.buf)
		if cap(w.buf)-start < n {
			grown := make([]byte, start, start+max(n, start))
			copy(grown, w.buf)
			w.buf = grown
		}
		got, err := s.File.ReadAt(w.buf[start:start+n], s.Offset+done)
		if got < n {
			w.buf = w.buf[:start]
			if err == nil || errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: %d of %d bytes at offset %d", ErrShortSpan, done+int64(got), s.Length, s.Offset)
			}
			return fmt.Errorf("wire: reading span at offset %d: %w", s.Offset+done, err)
		}
		// io.ReaderAt may report io.EOF along with a full read at the end.
		w.buf = w.buf[:start+n]
		w.written += int64(n)
		done += int64(n)
		if len(w.buf) >= flushThreshold {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes the buffered bytes to the connection.
func (w *ConnWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.buf)
	if cap(w.buf) > maxRetainedBuffer {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	if err != nil {
		return fmt.Errorf("wire: writing responses: %w", err)
	}
	return nil
}

// takeWritten returns the bytes accepted since the last call.
func (w *ConnWriter) takeWritten() int64 {
	n := w.written
	w.written = 0
	return n
}

// appendHeader buffers a response's size prefix and header; bodySize is the
// length of the body that must follow.
func (w *ConnWriter) appendHeader(bodySize int, correlationID int32, flexible bool) error {
	size := int64(bodySize) + 4
	if flexible {
		size++
	}
	if size > math.MaxInt32 {
		return fmt.Errorf("%w: %d-byte response does not fit a frame", errBadResponse, size)
	}
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(size))
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(correlationID))
	if flexible {
		w.buf = append(w.buf, 0) // no tagged fields
	}
	return nil
}

// appendMessage frames and encodes m straight into the buffer: the fast
// path for Message responses, with no intermediate encoding.
func (w *ConnWriter) appendMessage(correlationID int32, flexible bool, m kmsg.Response) error {
	start := len(w.buf)
	if err := w.appendHeader(0, correlationID, flexible); err != nil {
		return err
	}
	w.buf = m.AppendTo(w.buf)
	size := len(w.buf) - start - 4
	if size > math.MaxInt32 {
		w.buf = w.buf[:start]
		return fmt.Errorf("%w: %d-byte response does not fit a frame", errBadResponse, size)
	}
	binary.BigEndian.PutUint32(w.buf[start:], uint32(size))
	if len(w.buf) >= flushThreshold {
		return w.Flush()
	}
	return nil
}
