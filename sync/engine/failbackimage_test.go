package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailbackImageVersion: after a failback the active image is chip A's
// again, and the version it is held to is the one committed from chip A
// before the failover (the newest generation in chip B's store), not the
// one chip B's image recorded while it was active (docs/DESIGN.md, The
// method, upgrade choice). Chip A's image as the user chose for it before
// the failover asks nothing and is reported as the committed version; an
// image chip A was given since (re-imaged, replaced) waits for a choice,
// right after the failback and after a restart.
func TestFailbackImageVersion(t *testing.T) {
	for _, tc := range []struct {
		name      string
		chosen    string // chip A's image upgraded to this and kept before the failover ("": the default image)
		reimaged  string // chip A's image written between the failover and the failback ("": unchanged)
		committed string // Status.CommittedVersion after the failback
		pending   bool
	}{
		{name: "same image", committed: DefaultImageVersion},
		{name: "upgrade chosen before the failover", chosen: "1.1.0", committed: "1.1.0"},
		{name: "re-imaged since", reimaged: "2.0.0", committed: DefaultImageVersion, pending: true},
		{name: "re-imaged to chip B's version", reimaged: "0.9.0", committed: DefaultImageVersion, pending: true},
		{name: "chosen upgrade, re-imaged back", chosen: "1.1.0", reimaged: DefaultImageVersion, committed: "1.1.0", pending: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			writeImage(t, p, p.chipB, "0.9.0")
			e := p.open(t)
			_, err := e.Round(ctx)
			require.NoError(t, err)
			if tc.chosen != "" {
				writeImage(t, p, p.chipA, tc.chosen)
				_, err = e.Round(ctx)
				require.ErrorIs(t, err, ErrUpgradePending)
				require.NoError(t, e.Upgrade(KeepUpgraded))
			}
			failOver(t, p)
			e = p.open(t)
			require.NoError(t, p.cmc.Step(p.region(t, p.chipB), 3600e9))
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			require.Equal(t, "0.9.0", e.Status().CommittedVersion, "chip B's image, committed while it was active")
			if tc.reimaged != "" {
				writeImage(t, p, p.chipA, tc.reimaged)
			}
			running := tc.reimaged
			if running == "" {
				running = tc.committed
			}

			_, err = e.Failback(ctx)
			require.NoError(t, err)
			for _, when := range []string{"right after the failback", "after a restart"} {
				st := e.Status()
				require.Equal(t, 0, st.ActiveChip, when)
				require.Equal(t, tc.pending, st.UpgradePending, when)
				require.Equal(t, tc.committed, st.CommittedVersion, when)
				require.Equal(t, running, st.PrimaryVersion, when)
				e = p.open(t)
			}
			rep, err = e.Round(ctx)
			if tc.pending {
				require.ErrorIs(t, err, ErrUpgradePending, "the round waits for the choice")
				require.NoError(t, e.Upgrade(KeepUpgraded))
			} else {
				require.NoError(t, err)
				require.Equal(t, OutcomeCommitted, rep.Outcome)
			}
			require.False(t, e.Status().UpgradePending)
			require.Equal(t, running, e.Status().CommittedVersion)
		})
	}
}
