//go:build !linux

package bench

import "time"

var cpuStart = time.Now()

// cpuTime approximates CPU time by wall time where getrusage is not used.
func cpuTime() time.Duration { return time.Since(cpuStart) }
