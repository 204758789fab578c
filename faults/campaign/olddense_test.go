package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// The older-format and dense-delta scenarios (oldformat.go, dense.go):
// what their bases and rounds hold, and a shard of each campaign for the
// mutation score's campaign stage (MUTATE_CAMPAIGN_RUN).

// roundEnd runs the bench's round without faults from its base and
// returns the backup store as the reference decoder reads it after it.
func roundEnd(t *testing.T, b *bench) *reference.Backup {
	t.Helper()
	ctx := context.Background()
	chips, clock, err := b.scenario.openChips(b.part, b.seed)
	require.NoError(t, err)
	chips[0].Restore(b.base[0])
	chips[1].Restore(b.base[1])
	clock.Advance(b.baseTime.Sub(clock.Now()))
	e, err := b.open(ctx, chips[0], chips[1], clock, engine.None)
	require.NoError(t, err)
	_, err = e.Round(ctx)
	require.NoError(t, err)
	bs, err := reference.Decode(chips[1], b.layout.StoreOff, b.layout.StoreSize)
	require.NoError(t, err)
	require.False(t, bs.Damaged(), "%v", bs.Findings)
	return bs
}

// chainLengths counts the committed chunks by the length of their delta
// chain.
func chainLengths(bs *reference.Backup) map[int]int {
	n := map[int]int{}
	for _, ts := range bs.Committed.Types {
		for _, c := range ts.Chunks {
			n[len(c.Deltas)]++
		}
	}
	return n
}

// TestOldFormatRoundUpgrades: the oldformat base is a format version 2
// store holding no delta, and its round under test upgrades it to version
// 5 — superblock copy 1, then copy 0, each erased and programmed — before
// any other write, then commits delta records.
func TestOldFormatRoundUpgrades(t *testing.T) {
	b, err := loadBench(context.Background(), "oldformat", 1, engine.None)
	require.NoError(t, err)
	require.Equal(t, uint32(2), b.baseBackup.Superblock.FormatVersion)
	require.Equal(t, map[int]int{0: countChunks(b.baseBackup)}, chainLengths(b.baseBackup), "no delta before the round")
	e := b.eraseSize
	sb := b.layout.StoreOff
	var first []faults.Op
	for _, op := range b.writes {
		if op.Off < sb+2*e && op.Off >= sb {
			first = append(first, op)
		}
	}
	require.GreaterOrEqual(t, len(first), 4)
	require.Equal(t, faults.Erase, b.writes[0].Kind)
	require.Equal(t, sb+e, b.writes[0].Off, "copy 1 first")
	require.Less(t, b.writes[1].Off, sb+2*e)
	var copy0 int
	for copy0 = 1; b.writes[copy0].Off != sb; copy0++ {
		require.Less(t, b.writes[copy0].Off, sb+2*e, "only superblock writes before copy 0's")
	}
	require.Equal(t, faults.Erase, b.writes[copy0].Kind)
	after := roundEnd(t, b)
	require.Equal(t, uint32(5), after.Superblock.FormatVersion)
	require.Positive(t, countChunks(after)-chainLengths(after)[0], "the round committed deltas")
}

func countChunks(bs *reference.Backup) int {
	n := 0
	for _, ts := range bs.Committed.Types {
		n += len(ts.Chunks)
	}
	return n
}

// fullDeltaBlocks counts the delta blocks of the committed state whose
// records fill them exactly.
func fullDeltaBlocks(bs *reference.Backup) int {
	used := map[uint32]int64{}
	for _, ts := range bs.Committed.Types {
		for _, c := range ts.Chunks {
			for _, d := range c.Deltas {
				used[d.Block] += int64(d.Len)
			}
		}
	}
	n := 0
	for _, u := range used {
		if u == bs.Superblock.EraseSize {
			n++
		}
	}
	return n
}

// TestDenseChainsReachTheLimit: in the dense scenarios every changed
// chunk's delta record is 128 bytes and a round's records fill its first
// delta block exactly; before the dense round 13 chunks were folded by the
// delta budget (chains of 1) and 32 hold 31 records, which the round
// brings to 32, the delta-chain limit of format version 5 (docs/FORMAT.md,
// 4.14), with 32 full blocks; the denselimit round writes those 32 chunks
// whole.
func TestDenseChainsReachTheLimit(t *testing.T) {
	for _, tc := range []struct {
		scenario              string
		before, after         map[int]int
		fullBefore, fullAfter int
	}{
		{"dense", map[int]int{0: 3, 1: 13, 31: 32}, map[int]int{0: 3, 2: 13, 32: 32}, 31, 32},
		{"denselimit", map[int]int{0: 3, 2: 13, 32: 32}, map[int]int{0: 35, 3: 13}, 32, 0},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			b, err := loadBench(context.Background(), tc.scenario, 1, engine.None)
			require.NoError(t, err)
			require.Equal(t, uint32(5), b.baseBackup.Superblock.FormatVersion)
			require.Equal(t, tc.before, chainLengths(b.baseBackup))
			require.Equal(t, tc.fullBefore, fullDeltaBlocks(b.baseBackup))
			after := roundEnd(t, b)
			require.Equal(t, tc.after, chainLengths(after))
			require.Equal(t, tc.fullAfter, fullDeltaBlocks(after))
		})
	}
}

// TestOldFormatCampaign: the whole exhaustive campaign of the round that
// upgrades a format version 2 store to version 5 (its superblock
// rewrites, then its first delta records), every point judged by the
// oracle.
func TestOldFormatCampaign(t *testing.T) {
	reachShard(t, "oldformat", Shard{0, 1})
}

// TestDenseCampaign: the whole exhaustive campaigns of the dense rounds:
// delta records for every chunk packed into full delta blocks, chains
// brought to the limit, and the round that writes the chunks at the
// limit whole.
func TestDenseCampaign(t *testing.T) {
	reachShard(t, "dense", Shard{0, 1})
	reachShard(t, "denselimit", Shard{0, 1})
}
