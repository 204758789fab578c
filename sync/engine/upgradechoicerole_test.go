package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUpgradeChoiceIsTheActiveChips: Status.UpgradeChoice is the choice
// the active chip's image is held to (recorded with the newest generation
// taken from it, the one its next commit carries on), not the one of the
// newest generation: after a failback they differ. Chip A's image was
// upgraded and kept before the failover; chip B's rounds while it was
// active recorded no choice (or chip B's own), yet after the failback,
// and after a restart, the status reports chip A's keep-upgraded, and so
// does the generation the next round commits.
func TestUpgradeChoiceIsTheActiveChips(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chipB UpgradeChoice // chosen for chip B's upgraded image while it was active (NoChoice: none)
		chipA UpgradeChoice // chosen for chip A's image before the failover
	}{
		{name: "chip B chose nothing", chipA: KeepUpgraded},
		{name: "chip B chose restore-defaults", chipA: KeepUpgraded, chipB: RestoreDefaults},
		{name: "chip A chose nothing, chip B keep-upgraded", chipA: NoChoice, chipB: KeepUpgraded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			e := p.open(t)
			_, err := e.Round(ctx)
			require.NoError(t, err)
			if tc.chipA != NoChoice {
				writeImage(t, p, p.chipA, "1.1.0")
				_, err = e.Round(ctx)
				require.ErrorIs(t, err, ErrUpgradePending)
				require.NoError(t, e.Upgrade(tc.chipA))
			}
			require.Equal(t, tc.chipA, e.Status().UpgradeChoice)
			failOver(t, p)
			e = p.open(t)
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			if tc.chipB != NoChoice {
				writeImage(t, p, p.chipB, "2.0.0")
				_, err = e.Round(ctx)
				require.ErrorIs(t, err, ErrUpgradePending)
				require.NoError(t, e.Upgrade(tc.chipB))
			}
			require.Equal(t, tc.chipB, e.Status().UpgradeChoice, "chip B active: its own choice")

			_, err = e.Failback(ctx)
			require.NoError(t, err)
			for _, when := range []string{"right after the failback", "after a restart"} {
				st := e.Status()
				require.Equal(t, 0, st.ActiveChip, when)
				require.Equal(t, tc.chipA, st.UpgradeChoice, "%s: chip A's choice, not the newest generation's", when)
				e = p.open(t)
			}
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), 3600e9))
			rep, err = e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			require.Equal(t, tc.chipA, e.Status().UpgradeChoice, "the next commit carries chip A's choice on")
		})
	}
}
