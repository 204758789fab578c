package campaign

import (
	"context"
	"testing"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/stretchr/testify/require"
)

func TestWorldPointsCoverTheRound(t *testing.T) {
	ps, err := WorldPoints(context.Background(), "standard", 1, engine.None)
	require.NoError(t, err)
	kinds := map[string]int{}
	for _, p := range ps {
		kinds[p.Kind]++
	}
	t.Logf("%d points: %v", len(ps), kinds)
	for _, k := range []string{"erase", "chunk-first", "chunk-last", "journal", "commit"} {
		require.NotZero(t, kinds[k], k)
	}
	s := SamplePoints(ps, 30)
	require.Len(t, s, 30)
	require.Equal(t, "commit", s[len(s)-1].Kind)
	_ = faults.Program
}
