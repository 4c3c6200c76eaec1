//go:build linux

package wire

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSendfileChunk is the most Linux moves in one sendfile call.
const maxSendfileChunk = 0x7ffff000

var errSendfileUnsupported = errors.New("wire: sendfile not supported for this file")

// sendfile copies length bytes of the file src, from offset, to the socket
// behind raw. The offset is passed to the kernel explicitly, so the file's
// shared position is neither used nor moved and concurrent readers of the
// same file are unaffected. It waits through the socket's poller when the
// send buffer is full, honouring the connection's write deadline.
//
// errSendfileUnsupported means the kernel refused this file before sending
// anything; the caller copies instead.
func sendfile(raw syscall.RawConn, src uintptr, offset, length int64) (int64, error) {
	var sent int64
	var opErr error
	err := raw.Write(func(dst uintptr) bool {
		for sent < length {
			chunk := int(min(length-sent, maxSendfileChunk))
			n, err := unix.Sendfile(int(dst), int(src), &offset, chunk)
			if n > 0 {
				sent += int64(n)
			}
			switch {
			case errors.Is(err, unix.EAGAIN):
				return false // socket buffer full: wait for writability
			case errors.Is(err, unix.EINTR):
				continue
			case sent == 0 && (errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP)):
				opErr = errSendfileUnsupported
				return true
			case err != nil:
				opErr = err
				return true
			case n == 0:
				opErr = fmt.Errorf("%w: %d of %d bytes", ErrShortSpan, sent, length)
				return true
			}
		}
		return true
	})
	if opErr != nil {
		return sent, opErr
	}
	return sent, err
}
