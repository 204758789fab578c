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

// The nand scenario's round allocates whole chunks across the factory bad
// block NANDRoundBad: a cut before the first write past it has not crossed
// it, a cut after has; the setup round's bad block is never crossed by the
// round (it lies before the round's first data block).
func TestPlanWorldCrossed(t *testing.T) {
	ctx := context.Background()
	ps, err := WorldPoints(ctx, "nand", 1, engine.None)
	require.NoError(t, err)
	var before, after int
	for _, p := range ps {
		plan, err := PlanWorld(ctx, p.Case)
		require.NoError(t, err)
		require.Equal(t, [2][]int64{nil, {NANDFactoryBad, NANDRoundBad}}, plan.FactoryBad)
		past := false
		for _, op := range plan.Ops[:plan.CutAt] {
			if blk := op.Off / (128 << 10); op.Role == faults.Backup && op.Kind != faults.Read && blk > NANDRoundBad {
				past = true
			}
		}
		if past {
			after++
			require.Equal(t, []int64{NANDRoundBad}, plan.Crossed, "cut at %d", plan.CutAt)
		} else {
			before++
			require.Empty(t, plan.Crossed, "cut at %d", plan.CutAt)
		}
	}
	t.Logf("%d points: %d cut before the round stepped over block %d, %d after", len(ps), before, NANDRoundBad, after)
	require.NotZero(t, before)
	require.NotZero(t, after)
}

func TestCrossedBad(t *testing.T) {
	w := func(blk int64) faults.Op {
		return faults.Op{Role: faults.Backup, Kind: faults.Program, Off: blk * 10, Len: 1}
	}
	tests := []struct {
		name string
		ops  []faults.Op
		want []int64
	}{
		{"none written", nil, nil},
		{"before the bad block", []faults.Op{w(1), w(2), w(3)}, nil},
		{"over it", []faults.Op{w(3), w(5)}, []int64{4}},
		{"journal below the data area", []faults.Op{{Role: faults.Backup, Kind: faults.Erase, Off: 0, Len: 10}, w(5)}, nil},
		{"primary writes", []faults.Op{{Role: faults.Primary, Kind: faults.Program, Off: 30}, {Role: faults.Primary, Kind: faults.Program, Off: 50}}, nil},
		{"reads", []faults.Op{{Role: faults.Backup, Kind: faults.Read, Off: 30}, w(5)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, crossedBad(tt.ops, []int64{4}, 10, 10, 100))
		})
	}
}
