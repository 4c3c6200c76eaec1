package vfs

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// lockHolderEnv makes the test binary, run again as a child by
// TestOSLockExcludesOtherProcesses, try to take the lock named in the
// variable and report the outcome through its exit status.
const lockHolderEnv = "EDDY_VFS_TEST_LOCK"

func TestMain(m *testing.M) {
	if name := os.Getenv(lockHolderEnv); name != "" {
		os.Exit(lockAsChild(name))
	}
	os.Exit(m.Run())
}

// lockAsChild exits 0 when it got the lock, 3 when it was held, 4 on any
// other error.
func lockAsChild(name string) int {
	l, err := OS().Lock(name)
	if err != nil {
		fmt.Fprint(os.Stderr, err)
		if errors.Is(err, ErrLocked) {
			return 3
		}
		return 4
	}
	if err := l.Close(); err != nil {
		fmt.Fprint(os.Stderr, err)
		return 4
	}
	return 0
}
