//go:build !linux

package mutate

import "time"

// canWatchCPU: without /proc the tree's CPU is known only when the go
// command ends (its rusage), so no CPU limit stops a stage and a stage the
// wall limit stops is inconclusive.
const canWatchCPU = false

func groupCPU(int) time.Duration { return 0 }
