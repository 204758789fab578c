package scenario

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/source/fwimage"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestCollectedCheck: the scenario's SEL and FRU inputs are what the real
// parsers accept, and the host's check of the backup fails on the
// provisioned images (nothing collected yet) and passes once the inputs
// are written into the primary's region (as info collect does in the
// guest) and a round has synced them.
func TestCollectedCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("writes two 128 MiB images")
	}
	in, err := newCollected(1)
	require.NoError(t, err)
	recs, format, err := sel.Parse(in.selFile, sel.LayoutIpmitool)
	require.NoError(t, err)
	require.Equal(t, sel.FormatRaw, format)
	require.Equal(t, in.records, recs)

	dir := t.TempDir()
	e := &env{primary: filepath.Join(dir, "primary.img"), backup: filepath.Join(dir, "backup.img")}
	require.NoError(t, writeCMCImages([]string{e.primary, e.backup}, 1))
	require.NoError(t, formatCMCImages(context.Background(), e.primary, e.backup, 1))
	r := &daemonRun{e: e, inputs: in}
	require.Contains(t, r.checkCollected()[0], "type not in the committed state", "nothing synced yet")

	pf, err := openImage(e.primary, "flash0")
	require.NoError(t, err)
	bf, err := openImage(e.backup, "flash1")
	require.NoError(t, err)
	l, err := cmcLayout(pf.Geometry())
	require.NoError(t, err)
	k := cmcPartNamed("kernel")
	eng, err := engine.Open(context.Background(), pf, bf, engine.Options{Clock: sim.NewClock(time.Now()), Layout: l, Config: engine.DefaultConfig(),
		Image: fwimage.Source{Off: k.off, Size: k.size, Kind: fwimage.FormatUImage}})
	require.NoError(t, err)
	round := func() {
		rep, err := eng.Round(context.Background())
		require.NoError(t, err)
		require.Equal(t, engine.OutcomeCommitted, rep.Outcome)
		require.NoError(t, bf.Sync())
	}
	round()
	bad := r.checkCollected()
	require.Len(t, bad, 1+len(in.records), "synced, nothing collected: the FRU slot and every SEL record missing: %q", bad)
	require.Contains(t, bad[0], "asset slot 0 is not the FRU image")
	require.Contains(t, bad[1], "lacks SEL record 0")

	region, err := info.OpenRegion(eng.Primary(), l.InfoOff, l.InfoSize)
	require.NoError(t, err)
	for _, x := range []struct {
		t     info.Type
		input []byte
	}{{info.EventLog, in.selFile}, {info.Asset, in.fruFile}} {
		changed, err := collect.PutInput(region, x.t, x.input, collect.Options{SELLayout: sel.LayoutIpmitool})
		require.NoError(t, err)
		require.True(t, changed)
	}
	round()
	eng.Release()
	require.NoError(t, pf.Close())
	require.NoError(t, bf.Close())
	require.Empty(t, r.checkCollected())
}
