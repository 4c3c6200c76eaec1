//go:build !linux

package wire

import (
	"errors"
	"syscall"
)

var errSendfileUnsupported = errors.New("wire: sendfile not supported on this platform")

// sendfile is only wired up for Linux; elsewhere every span is copied with
// positional reads, which is correct if slower.
func sendfile(syscall.RawConn, uintptr, int64, int64) (int64, error) {
	return 0, errSendfileUnsupported
}
