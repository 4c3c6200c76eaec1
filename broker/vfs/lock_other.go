//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd || solaris)

package vfs

import (
	"errors"
	"os"
)

// lockFile reports that this platform has no flock; eddy's embedded broker
// refuses to run unlocked rather than risk two processes sharing a log.
func lockFile(*os.File) error { return errors.ErrUnsupported }
