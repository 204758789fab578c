package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The campaign tests of the mutation score's campaign stage
// (MUTATE_CAMPAIGN_RUN, docs/MUTATION.md) beyond the standard and small
// rounds: a shard of each scenario that reaches paths those rounds never
// take. Each is the real campaign — every point judged by the oracle —
// on a seeded shard, so the stage stays short.

// reachShard runs shard sh of the exhaustive campaign of scenario sc and
// wants no violation beyond the known ones, with every point checked.
func reachShard(t *testing.T, sc string, sh Shard) *Report {
	t.Helper()
	if testing.Short() {
		t.Skip("a campaign shard")
	}
	rep, err := Run(context.Background(), Options{Scenario: sc, Workers: 2, Shard: sh, KeepViolations: 1 << 20})
	require.NoError(t, err)
	requireOnlyKnown(t, rep)
	require.Positive(t, rep.FaultPoints)
	t.Logf("%s shard %v: %d points %v in %.1fs", sc, sh, rep.FaultPoints, rep.Kinds, rep.WallSeconds)
	return rep
}

// TestNANDCampaignShard: the NAND round with factory bad blocks (the
// format steps over them, and so does the round's allocation), whole-chunk
// programs of 2 KiB pages.
func TestNANDCampaignShard(t *testing.T) {
	reachShard(t, "nand", Shard{0, 8})
}

// TestLongRunCampaignShard: rounds of the long run on a small store that
// compact the journal into the other area and reuse dirty blocks: journal
// erase windows entered, dirty blocks erased before reuse.
func TestLongRunCampaignShard(t *testing.T) {
	reachShard(t, "longrun", Shard{0, 8})
}

// TestLifecycleCampaignShard: the daemon's life around the rounds (format,
// configuration change, upgrades, scrub and repair, restart, a change the
// primary's change table missed, the idle erase, failover, reseed,
// failback, group configurations), cut and torn at a shard of its
// operations. The recorded life checks each later step's own outcome, so
// an engine that breaks one fails the shard whatever cuts it holds.
func TestLifecycleCampaignShard(t *testing.T) {
	reachShard(t, LifecycleScenario, Shard{1, 16})
}
