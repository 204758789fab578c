package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestDenseCapRoundFitsTheRecordCap: the densecap history's rounds add a
// delta record to each of 797 chunks; its last round meets the store's
// record cap (what a checkpoint of the records fits in a journal area,
// docs/FORMAT.md 4.14, computed by the reference decoder from the
// superblock: 16660) and writes 4 chunks whole, so the base holds 16653,
// short of the delta block budget and of the chain limit; the round under test,
// which would add one more record to each of 793 chunks, writes chunks
// whole (their chains released) until the state fits the cap again. A
// store whose cap were larger than the format's keeps more records than a
// checkpoint can hold.
func TestDenseCapRoundFitsTheRecordCap(t *testing.T) {
	if testing.Short() {
		t.Skip("21 dense rounds on a 4 MiB region")
	}
	b, err := loadBench(context.Background(), "densecap", 1, engine.None)
	require.NoError(t, err)
	sb := b.baseBackup.Superblock
	recordCap := sb.PolicyRecordCap()
	require.Equal(t, 16660, recordCap)
	base := deltaRecords(b.baseBackup)
	require.LessOrEqual(t, base, recordCap, "the history's state holds more delta records than a checkpoint fits")
	require.Equal(t, map[int]int{0: 6, 21: 793}, chainLengths(b.baseBackup), "the history's last round wrote 4 chunks whole")
	require.Equal(t, 21*793, base)
	require.Greater(t, base+793, recordCap, "a round of deltas for every chunk does not fit")
	after := roundEnd(t, b)
	got := deltaRecords(after)
	require.LessOrEqual(t, got, recordCap, "the round's state holds more delta records than a checkpoint fits")
	require.Equal(t, map[int]int{0: 42, 22: 757}, chainLengths(after), "36 chunks written whole, 757 chains one longer")
	require.Less(t, blocksHolding(after), sb.PolicyBudget(0), "the delta block budget is not what binds")
}

// deltaRecords counts the delta records bs's committed state holds.
func deltaRecords(bs *reference.Backup) int {
	n := 0
	for _, ts := range bs.Committed.Types {
		for _, c := range ts.Chunks {
			n += len(c.Deltas)
		}
	}
	return n
}

// blocksHolding counts the delta blocks bs's committed state references.
func blocksHolding(bs *reference.Backup) int {
	blocks := map[uint32]bool{}
	for _, ts := range bs.Committed.Types {
		for _, c := range ts.Chunks {
			for _, d := range c.Deltas {
				blocks[d.Block] = true
			}
		}
	}
	return len(blocks)
}
