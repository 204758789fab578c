package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// writeImage writes a firmware image of version to f, as the board's
// provisioning or an upgrade would.
func writeImage(t *testing.T, p *pair, f *sim.Flash, version string) {
	t.Helper()
	l := p.opts.Layout
	require.NoError(t, info.WriteImage(f, info.ImageHeader{Version: version, Size: l.ImageSize - info.ImageHeaderSize, Built: p.clock.Now()}, 5))
}

// TestFailoverToAnotherImageIsNoUpgrade: the two chips run different
// images (chip B the older one, as dual-flash boards ship). The committed
// generations were taken from chip A's image; after a failover the active
// image is chip B's, which did not change: rounds go on (they used to
// wait for an upgrade choice for ever, the daemon-powercut scenario's 6
// violations), and the first generation taken from chip B sets its
// baseline, so a real upgrade of chip B's image after it is noticed. The
// same holds after a failback, the other way round.
func TestFailoverToAnotherImageIsNoUpgrade(t *testing.T) {
	ctx := context.Background()
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	writeImage(t, p, p.chipB, "0.9.0")
	_, err := p.open(t).Round(ctx)
	require.NoError(t, err)

	failOver(t, p)

	e := p.open(t) // chip A answers again; chip B stays active
	require.Equal(t, 1, e.Status().ActiveChip)
	require.False(t, e.Status().UpgradePending, "at Open")
	require.NoError(t, p.cmc.Step(p.region(t, p.chipB), 3600e9))
	rep, err := e.Round(ctx)
	require.NoError(t, err, "the first round on chip B's image")
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Equal(t, "0.9.0", e.Status().CommittedVersion)

	writeImage(t, p, p.chipB, "1.1.0")
	_, err = e.Round(ctx)
	require.ErrorIs(t, err, ErrUpgradePending, "an upgrade of the active chip B's image")
	require.NoError(t, e.Upgrade(KeepUpgraded))

	_, err = e.Failback(ctx)
	require.NoError(t, err)
	e = p.open(t)
	require.False(t, e.Status().UpgradePending, "after the failback, at Open")
	rep, err = e.Round(ctx)
	require.NoError(t, err, "the first round on chip A's image again")
	require.Equal(t, DefaultImageVersion, e.Status().CommittedVersion)
}
