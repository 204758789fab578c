package campaign

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// The densemany scenario (scenario.go): a round of more short delta
// records than one intent-deltas record lists.

// TestDenseManyBlocksEndAtTheEntryCount: the densemany round commits 195
// delta records of 33 bytes — 124 would fit a 4 KiB block by size — in
// blocks of 86, 86 and 23: each block holds what one intent-deltas
// record lists (docs/FORMAT.md 4.14).
func TestDenseManyBlocksEndAtTheEntryCount(t *testing.T) {
	b, err := loadBench(context.Background(), "densemany", 1, engine.None)
	require.NoError(t, err)
	after := roundEnd(t, b)
	require.Equal(t, map[int]int{0: 4, 1: 195}, chainLengths(after))
	per := map[uint32]int{}
	for _, ts := range after.Committed.Types {
		for _, c := range ts.Chunks {
			for _, d := range c.Deltas {
				require.EqualValues(t, 33, d.Len)
				per[d.Block]++
			}
		}
	}
	counts := []int{}
	for _, n := range per {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	require.Equal(t, []int{23, 86, 86}, counts)
}

// TestDenseManyCampaign: the whole exhaustive campaign of the densemany
// round, whose intent is a head, an intent-chunks record and three
// intent-deltas records, each in a journal block of its own: an anomaly
// of the primary at the probe before a later block stops the intent
// there, and the purge erases only the blocks of the records written
// (the delta blocks of the others are named by no intent on the flash).
func TestDenseManyCampaign(t *testing.T) {
	reachShard(t, "densemany", Shard{0, 1})
}
