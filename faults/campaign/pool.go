package campaign

import (
	"context"
	"sync"
	"sync/atomic"
)

// runPool runs jobs 0 to jobs-1 on workers goroutines, each job once. Jobs
// are handed out in index order, chunk consecutive jobs at a time: a
// goroutine runs its chunk's jobs in order, so what it learns from one job
// of a chunk (a memoised verdict) depends only on the chunk, never on the
// number of goroutines or on timing. do(worker, job) runs job on goroutine
// worker (0 to workers-1), so that do may use that goroutine's own state (a
// worker's chips) without locks; a job whose index is a multiple of chunk
// starts a chunk. A goroutine takes no more jobs once ctx is done, stop
// reports true or one of its jobs failed; runPool returns when every
// goroutine has stopped, with the first error of do.
func runPool(ctx context.Context, workers, jobs, chunk int, do func(worker, job int) error, stop func() bool) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	chunk = max(chunk, 1)
	for wi := range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(chunk)) - int64(chunk))
				for k := lo; k < min(lo+chunk, jobs); k++ {
					if ctx.Err() != nil || stop() {
						return
					}
					if err := do(wi, k); err != nil {
						mu.Lock()
						if first == nil {
							first = err
						}
						mu.Unlock()
						return
					}
				}
				if lo+chunk >= jobs {
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
