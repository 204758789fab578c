package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestUpgradePendingSurvivesRestart: an upgrade waiting for the user's
// choice is known from the flash at Open (the primary's image version
// against the committed one), not forgotten until the next round.
func TestUpgradePendingSurvivesRestart(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	_, err := p.open(t).Round(context.Background())
	require.NoError(t, err)
	upgradePrimary(t, p, "2.0.0")
	e := p.open(t) // a restart, no round yet
	st := e.Status()
	require.True(t, st.UpgradePending)
	require.Equal(t, "2.0.0", st.PrimaryVersion)
	require.Equal(t, DefaultImageVersion, st.CommittedVersion)
	require.Contains(t, eventKinds(e), EventUpgrade)
	for _, ts := range st.Types {
		require.False(t, ts.Synced, "%v: not synced while the upgrade waits", ts.Type)
	}
	require.NoError(t, e.Upgrade(KeepUpgraded))
	st = e.Status()
	require.False(t, st.UpgradePending)
	require.Equal(t, "2.0.0", st.CommittedVersion)
	for _, ts := range st.Types {
		require.True(t, ts.Synced, "%v", ts.Type)
	}
}

// TestRestoreDefaultsCutIsCompletedAtOpen: a power loss anywhere in a
// restore-defaults (here: a torn write at the mark, at the first, a middle
// and the last program of the defaults, and at the first write after
// them) never leaves a torn record on the primary after the next Open and
// never reports a type synced while the restore is incomplete: once the
// mark is durable, Open writes the defaults again and commits them.
func TestRestoreDefaultsCutIsCompletedAtOpen(t *testing.T) {
	p, snapA, snapB, ops := tracedRestoreDefaults(t)
	l := p.opts.Layout
	var defaults []int64 // programs of the defaults into the primary's region
	mark := int64(-1)    // the backup's last program before them: the mark's commit
	after := int64(-1)   // the first operation after them
	for _, op := range ops {
		switch {
		case op.Role == faults.Primary && op.Kind == faults.Program && op.Off >= l.InfoOff && op.Off < l.InfoOff+l.InfoSize:
			defaults = append(defaults, op.Index)
		case len(defaults) == 0 && op.Role == faults.Backup && op.Kind == faults.Program:
			mark = op.Index
		case len(defaults) > 0 && after < 0 && op.Index > defaults[len(defaults)-1]:
			after = op.Index
		}
	}
	require.NotEmpty(t, defaults)
	require.GreaterOrEqual(t, mark, int64(0))
	require.Greater(t, after, int64(0))

	for _, tc := range []struct {
		name      string
		at        int64
		completed bool // the mark was durable: Open completes the restore
	}{
		{"at the mark", mark, false},
		{"at the first default", defaults[0], true},
		{"in the middle of the defaults", defaults[len(defaults)/2], true},
		{"at the last default", defaults[len(defaults)-1], true},
		{"after the defaults", after, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.chipA.Restore(snapA)
			p.chipB.Restore(snapB)
			e, _ := p.openWithFaults(t, p.opts, "(on (at %d) (torn bits))", tc.at)
			require.ErrorIs(t, e.Upgrade(RestoreDefaults), hal.ErrPowerLoss)

			e = p.open(t) // the restart
			st := e.Status()
			region := p.region(t, p.chipA)
			for _, ty := range info.All() {
				rec, err := region.Read(ty)
				require.NoError(t, err, "%v: no torn record on the primary after Open", ty)
				if tc.completed {
					require.Equal(t, info.Default(ty), rec.Payload, "%v", ty)
				}
			}
			for _, ts := range st.Types {
				require.Equal(t, !st.UpgradePending, ts.Synced, "%v synced iff nothing is pending", ts.Type)
			}
			if !tc.completed {
				require.True(t, st.UpgradePending, "the choice was not recorded: asked again")
				require.False(t, st.RestoreIncomplete)
				return
			}
			require.False(t, st.UpgradePending)
			require.False(t, st.RestoreIncomplete)
			require.Equal(t, "2.0.0", st.CommittedVersion)
			require.Equal(t, RestoreDefaults, st.UpgradeChoice)
			requireSynced(t, p, p.chipA, p.chipB, info.All())
			// A later upgrade is an upgrade, not a restore to complete.
			upgradePrimary(t, p, "3.0.0")
			require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
			st = p.open(t).Status()
			require.True(t, st.UpgradePending)
			require.False(t, st.RestoreIncomplete)
		})
	}
}

// tracedRestoreDefaults sets up a pair synced once whose primary was then
// upgraded to 2.0.0 and changed by an hour of CMC activity, and runs the
// restore-defaults without faults, traced: it returns the pair (holding
// what the restore left), the chips' snapshots from before the restore
// and the restore's operations (without their data).
func tracedRestoreDefaults(t *testing.T) (p *pair, snapA, snapB *sim.Snapshot, ops []faults.Op) {
	t.Helper()
	ctx := context.Background()
	p = newPair(t, 8<<20, 1<<20, DefaultConfig())
	_, err := p.open(t).Round(ctx)
	require.NoError(t, err)
	upgradePrimary(t, p, "2.0.0")
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
	snapA, snapB = p.chipA.Snapshot(), p.chipB.Snapshot()
	in, chipA, chipB := p.injector(t, true, func(op faults.Op) { op.Data = nil; ops = append(ops, op) }, "none")
	e, err := Open(ctx, chipA, chipB, p.opts)
	require.NoError(t, err)
	in.Arm()
	require.NoError(t, e.Upgrade(RestoreDefaults))
	return p, snapA, snapB, ops
}
