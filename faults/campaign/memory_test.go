package campaign

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// heapAfterGC returns the live heap after a full collection.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestHeapFlat: the oracle's caches are bounded, so the live heap after
// many schedules is about what it is after a few hundred (once the caches
// are full), not growing with every schedule.
func TestHeapFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 2,400 random schedules")
	}
	// Thousands of cases the cross-check's list of known disagreements
	// does not cover: this test is about memory only.
	hook := decodeHook
	decodeHook = nil
	t.Cleanup(func() { decodeHook = hook })
	const warm, total = 600, 2400
	var atWarm, atEnd uint64
	_, err := Run(context.Background(), Options{Mode: Random, Scenario: "small", Seed: 7, Count: total, Workers: 1, LiveEvery: 1,
		Progress: func(done, _ int) {
			switch done {
			case warm:
				atWarm = heapAfterGC()
			case total:
				atEnd = heapAfterGC()
			}
		}})
	require.NoError(t, err)
	require.NotZero(t, atWarm)
	ratio := float64(atEnd) / float64(atWarm)
	t.Logf("live heap after %d schedules %.1f MB, after %d %.1f MB (ratio %.2f)", warm, float64(atWarm)/1e6, total, float64(atEnd)/1e6, ratio)
	require.Less(t, ratio, 1.3, "the live heap grows with the schedules run")
}
