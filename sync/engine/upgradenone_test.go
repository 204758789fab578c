package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestUpgradeRoundRefusedWithoutPendingUpgrade: a choice made while the
// engine knows of no image upgrade waiting for one is refused with
// ErrNoUpgradePending and writes nothing (a restore-defaults would
// otherwise replace the primary's information with the defaults): with
// no upgrade at all, after the choice was made already, and after an
// Open whose read of the primary's image header failed (the upgrade is
// then not known until the next round's probe finds it; the choice works
// after that round).
func TestUpgradeRoundRefusedWithoutPendingUpgrade(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// setup prepares p (synced once) and returns the engine the
		// choice is made on, and whether the primary was upgraded.
		setup    func(t *testing.T, p *pair) (*Engine, bool)
		contains string
	}{
		{"no upgrade", func(t *testing.T, p *pair) (*Engine, bool) {
			return p.open(t), false
		}, `the primary's image identity is "1.0.0", the committed one "1.0.0"`},
		{"choice made already", func(t *testing.T, p *pair) (*Engine, bool) {
			upgradePrimary(t, p, "2.0.0")
			e := p.open(t)
			require.NoError(t, e.Upgrade(KeepUpgraded))
			return e, false
		}, `the primary's image identity is "2.0.0", the committed one "2.0.0"`},
		{"image header read failed at open", func(t *testing.T, p *pair) (*Engine, bool) {
			upgradePrimary(t, p, "2.0.0")
			header := int64(-1)
			_, chipA, chipB := p.injector(t, false, func(op faults.Op) {
				if header < 0 && op.Role == faults.Primary && op.Kind == faults.Read && op.Off == 0 {
					header = op.Index
				}
			}, "none")
			_, err := Open(ctx, chipA, chipB, p.opts)
			require.NoError(t, err)
			require.GreaterOrEqual(t, header, int64(0), "Open reads the primary's image header")
			_, chipA, chipB = p.injector(t, false, nil, "(on (at %d) (fail media))", header)
			e, err := Open(ctx, chipA, chipB, p.opts)
			require.NoError(t, err)
			return e, true
		}, "the primary's image identity is not known yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := committedPair(t, DefaultConfig())
			e, upgraded := tc.setup(t, p)
			require.False(t, e.Status().UpgradePending)
			for _, choice := range []UpgradeChoice{RestoreDefaults, KeepUpgraded} {
				require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour), "information the defaults would replace")
				before := p.region(t, p.chipA)
				gen, events := e.Status().Generation, eventKinds(e)
				rep, err := e.UpgradeRound(ctx, choice)
				require.ErrorIs(t, err, ErrNoUpgradePending, "%v", choice)
				require.ErrorContains(t, err, tc.contains)
				require.Zero(t, rep.Generation, "no round ran")
				require.Equal(t, gen, e.Status().Generation, "nothing committed")
				require.Equal(t, events, eventKinds(e), "no event: no choice was made")
				after := p.region(t, p.chipA)
				for _, ty := range info.All() {
					want, err := before.Read(ty)
					require.NoError(t, err)
					got, err := after.Read(ty)
					require.NoError(t, err)
					require.Equal(t, want.Payload, got.Payload, "%v %v: the primary's information is untouched", choice, ty)
				}
			}
			if !upgraded {
				return
			}
			// The next round finds the upgrade; the choice then runs.
			_, err := e.Round(ctx)
			require.ErrorIs(t, err, ErrUpgradePending)
			require.True(t, e.Status().UpgradePending)
			require.NoError(t, e.Upgrade(RestoreDefaults))
			st := e.Status()
			require.False(t, st.UpgradePending)
			require.Equal(t, "2.0.0", st.CommittedVersion)
			require.Equal(t, RestoreDefaults, st.UpgradeChoice)
		})
	}
}
