package campaign

import (
	"context"
	"sync"
	"sync/atomic"
)

// runPool runs jobs 0 to jobs-1 on workers goroutines, each job once, handed
// out in index order. do(worker, job) runs job on goroutine worker (0 to
// workers-1), so that do may use that goroutine's own state (a worker's
// chips) without locks. A goroutine takes no more jobs once ctx is done,
// stop reports true or one of its jobs failed; runPool returns when every
// goroutine has stopped, with the first error of do.
func runPool(ctx context.Context, workers, jobs int, do func(worker, job int) error, stop func() bool) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for wi := range workers {
		wg.Go(func() {
			for ctx.Err() == nil && !stop() {
				k := int(next.Add(1) - 1)
				if k >= jobs {
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
		})
	}
	wg.Wait()
	return first
}
