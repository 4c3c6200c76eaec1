//go:build unix

package nexmark

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far, user and system,
// of every thread: the query's workers and fetchers, the embedded broker
// serving them, the garbage collector.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
