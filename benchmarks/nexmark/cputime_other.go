//go:build !unix

package nexmark

import "time"

// cpuTime is not measured here: Result.CPU stays zero.
func cpuTime() time.Duration { return 0 }
