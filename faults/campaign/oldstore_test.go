package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// The scenarios on stores an older cmcsync wrote (oldstore.go).

// TestOldStoreBases: each base is the older writer's store as it left it
// (its format version, its chains, partly named by checkpoint-deltas
// records: v3 holds 32 chains at version 3's limit of 8, v4 43 of 9 and
// four longer, past it), and the round under test upgrades it to version 5
// and extends most chains by one compact record (31 of v3's past version
// 3's limit).
func TestOldStoreBases(t *testing.T) {
	for _, tc := range []struct {
		scenario      string
		version       uint32
		before, after map[int]int
	}{
		{"v3chain", 3, map[int]int{0: 14, 2: 1, 6: 1, 8: 32}, map[int]int{1: 14, 2: 1, 6: 1, 8: 1, 9: 31}},
		{"v4chain", 4, map[int]int{7: 1, 9: 43, 12: 2, 19: 1, 21: 1}, map[int]int{7: 1, 9: 1, 10: 42, 13: 2, 20: 1, 21: 1}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			b, err := loadBench(context.Background(), tc.scenario, 1, engine.None)
			require.NoError(t, err)
			require.Equal(t, tc.version, b.baseBackup.Superblock.FormatVersion)
			require.Equal(t, tc.before, chainLengths(b.baseBackup))
			after := roundEnd(t, b)
			require.Equal(t, uint32(5), after.Superblock.FormatVersion)
			require.Equal(t, tc.after, chainLengths(after))
		})
	}
}

// TestOldStoreCampaign: the whole exhaustive campaign of each old store's
// round: every operation of the upgrade and of the round cut and torn,
// recovery, scrub, apply and failover reading the older chains.
func TestOldStoreCampaign(t *testing.T) {
	for _, sc := range []string{"v3chain", "v4chain"} {
		t.Run(sc, func(t *testing.T) { reachShard(t, sc, Shard{0, 1}) })
	}
}
