package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// The densewhole scenario (staletable.go): what its base and round hold,
// and its campaign for the mutation score's campaign stage
// (MUTATE_CAMPAIGN_RUN).

// deltaBlocks counts the delta blocks the committed state references.
func deltaBlocks(bs *reference.Backup) int {
	used := map[uint32]bool{}
	for _, ts := range bs.Committed.Types {
		for _, c := range ts.Chunks {
			for _, d := range c.Deltas {
				used[d.Block] = true
			}
		}
	}
	return len(used)
}

// TestDenseWholeRoundReleases: the densewhole base holds 45 chains of 19
// records in 38 delta blocks (19 of 32 chunks' records, 19 of the other
// 13's), the delta-block budget; the round under test reads every record
// whole (the tables are stale) and, its 2 new blocks over the budget,
// releases the blocks of 13 chunks — the fewest — by writing those 13
// chunks whole: 16 chunks without deltas after it, 32 chains of 20 in 20
// blocks.
func TestDenseWholeRoundReleases(t *testing.T) {
	b, err := loadBench(context.Background(), "densewhole", 1, engine.None)
	require.NoError(t, err)
	sb := b.baseBackup.Superblock
	require.Equal(t, 38, sb.PolicyBudget(0))
	require.Equal(t, map[int]int{0: 3, 19: 45}, chainLengths(b.baseBackup))
	require.Equal(t, 38, deltaBlocks(b.baseBackup))
	require.Equal(t, 19, fullDeltaBlocks(b.baseBackup))

	ctx := context.Background()
	chips, clock, err := b.scenario.openChips(b.part, b.seed)
	require.NoError(t, err)
	chips[0].Restore(b.base[0])
	chips[1].Restore(b.base[1])
	clock.Advance(b.baseTime.Sub(clock.Now()))
	e, err := b.open(ctx, chips[0], chips[1], clock, engine.None)
	require.NoError(t, err)
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, b.scenario.Types, rep.ReadWhole, "the stale tables make the round read every record whole")
	after, err := reference.Decode(chips[1], b.layout.StoreOff, b.layout.StoreSize)
	require.NoError(t, err)
	require.False(t, after.Damaged(), "%v", after.Findings)
	require.Equal(t, map[int]int{0: 16, 20: 32}, chainLengths(after))
	require.Equal(t, 20, deltaBlocks(after))
	require.Equal(t, 20, fullDeltaBlocks(after))
}

// TestDenseWholeCampaign: the whole exhaustive campaign of the round that
// releases delta blocks under the budget by writing their chunks whole
// from the payloads it read.
func TestDenseWholeCampaign(t *testing.T) {
	reachShard(t, "densewhole", Shard{0, 1})
}
