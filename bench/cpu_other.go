//go:build !linux

package bench

import "time"

// threadCPU approximates the CPU time of the caller's work by wall time
// where per-thread CPU time is not read.
func threadCPU() (stop func() time.Duration) {
	t0 := time.Now()
	return func() time.Duration { return time.Since(t0) }
}
