package campaign

import (
	"context"
	"testing"

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
}

// Only power cuts of the round can be run on a real chip; the plan of a
// cut holds the simulator's round up to it.
func TestPlanWorld(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		line string
		want string // error text; "" for a plan
	}{
		{"standard seed=1 mutant=none | (on (at 41) cut) | none", ""},
		{"standard seed=1 mutant=none | (on (at 41) (torn bits)) | none", "only power cuts"},
		{"standard seed=1 mutant=none | (on (at 41) cut) | (on (at 2) cut)", "faults in the recovery"},
		{"standard seed=1 mutant=none | before (on (at 0) (flip backup 0x9a3000 0x9a3100 2)) | (on (at 41) cut) | none", "damage before the round"},
		{"longrun@3 seed=1 mutant=none | (on (at 4) cut) | none", "long history"},
		{"standard seed=1 mutant=none | (on (at 100000) cut) | none", "cuts none of the round's"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c, err := ParseCase(tt.line)
			require.NoError(t, err)
			p, err := PlanWorld(ctx, c)
			if tt.want != "" {
				require.ErrorIs(t, err, ErrNotReal)
				require.ErrorContains(t, err, tt.want)
				return
			}
			require.NoError(t, err)
			require.EqualValues(t, 41, p.CutAt)
			require.Len(t, p.Ops, 42)
			require.EqualValues(t, 41, p.Ops[41].Index)
			require.Len(t, p.Base[0], int(p.ChipSize))
			require.EqualValues(t, 32<<20, p.ChipSize)
		})
	}
}
