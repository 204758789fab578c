package bench

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU measures the CPU time of the calling goroutine's work: it
// locks the goroutine to its OS thread and reads that thread's user+system
// time (getrusage RUSAGE_THREAD), so scenarios running in parallel do not
// count each other. stop returns the time used since start and unlocks.
func threadCPU() (stop func() time.Duration) {
	runtime.LockOSThread()
	t0 := threadTime()
	return func() time.Duration {
		d := threadTime() - t0
		runtime.UnlockOSThread()
		return d
	}
}

func threadTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
