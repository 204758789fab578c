package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStopAndWornErasePoints: on the small round and the old-format one
// (whose round upgrades the superblock first), every stop point (the
// round stopped by its context at every stopEvery-th backup write, the
// backup's erases failing loudly or silently from there) and every
// worn-erase point (every erase of an area silent from the round's first
// erase there) passes every invariant on the real engine.
func TestStopAndWornErasePoints(t *testing.T) {
	ctx := context.Background()
	for _, sc := range []string{"small", "oldformat"} {
		b, err := loadBench(ctx, sc, 1, 0)
		require.NoError(t, err)
		w, err := newWorker(b)
		require.NoError(t, err)
		ps := append(b.stopPoints(), b.wornErasePoints()...)
		require.NotEmpty(t, b.stopPoints(), sc)
		require.NotEmpty(t, b.wornErasePoints(), sc)
		for _, p := range ps {
			out, err := w.runPoint(ctx, p, 1)
			require.NoError(t, err)
			for _, v := range out.results[0].verdicts {
				require.True(t, v.OK, "%s\n%s", out.results[0].testCase, v)
			}
		}
	}
}
