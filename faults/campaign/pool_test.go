package campaign

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPoolRunsEveryJobOnce: every job runs once, each on one of the
// goroutines, which never run two jobs at a time.
func TestPoolRunsEveryJobOnce(t *testing.T) {
	for _, workers := range []int{1, 3, 8} {
		var mu sync.Mutex
		ran := map[int]int{}
		busy := make([]atomic.Bool, workers)
		var overlap atomic.Bool
		err := runPool(context.Background(), workers, 100, 7, func(w, k int) error {
			if !busy[w].CompareAndSwap(false, true) {
				overlap.Store(true)
			}
			defer busy[w].Store(false)
			mu.Lock()
			ran[k]++
			mu.Unlock()
			return nil
		}, func() bool { return false })
		require.NoError(t, err)
		require.False(t, overlap.Load(), "a goroutine ran two jobs at once")
		require.Len(t, ran, 100)
		for k, n := range ran {
			require.Equal(t, 1, n, "job %d", k)
		}
	}
}

// TestPoolStops: the pool stops taking jobs once stop reports true, once
// the context is done, and at the first error, which it returns.
func TestPoolStops(t *testing.T) {
	var done atomic.Int64
	err := runPool(context.Background(), 1, 100, 4, func(int, int) error { done.Add(1); return nil },
		func() bool { return done.Load() >= 5 })
	require.NoError(t, err)
	require.EqualValues(t, 5, done.Load())

	ctx, cancel := context.WithCancel(context.Background())
	done.Store(0)
	err = runPool(ctx, 1, 100, 4, func(int, int) error {
		if done.Add(1) == 3 {
			cancel()
		}
		return nil
	}, func() bool { return false })
	require.NoError(t, err, "the caller reports ctx.Err()")
	require.EqualValues(t, 3, done.Load())

	boom := errors.New("boom")
	err = runPool(context.Background(), 2, 100, 4, func(_, k int) error {
		if k == 7 {
			return boom
		}
		return nil
	}, func() bool { return false })
	require.ErrorIs(t, err, boom)
}

// TestPoolChunks: a goroutine runs a chunk's jobs in order, one after
// the other, starting at a multiple of the chunk size, and the last chunk
// may be short.
func TestPoolChunks(t *testing.T) {
	for _, tc := range []struct{ workers, jobs, chunk int }{{1, 10, 3}, {3, 100, 16}, {4, 5, 16}, {2, 0, 4}} {
		var mu sync.Mutex
		last := make([]int, tc.workers) // the job each goroutine ran last
		for i := range last {
			last[i] = -1
		}
		ran := 0
		err := runPool(context.Background(), tc.workers, tc.jobs, tc.chunk, func(w, k int) error {
			mu.Lock()
			defer mu.Unlock()
			if k%tc.chunk != 0 {
				require.Equal(t, k-1, last[w], "job %d of a chunk after another goroutine's", k)
			}
			last[w] = k
			ran++
			return nil
		}, func() bool { return false })
		require.NoError(t, err)
		require.Equal(t, tc.jobs, ran)
	}
}
