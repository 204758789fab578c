package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestLayout128MiBHolds32MiBRegion: a 128 MiB chip holds the default
// layout for a 32 MiB information region under both erase models, with
// room in the data area beyond twice the largest generation for the delta
// blocks; and (without -short) a pair of such chips formats, syncs the
// whole region, then syncs a scattered change as deltas.
func TestLayout128MiBHolds32MiBRegion(t *testing.T) {
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	for _, em := range []sim.EraseModel{sim.Erase4K, sim.Erase64K} {
		g, err := part.GeometryFor(em)
		require.NoError(t, err)
		g.Size = 128 << 20
		l, err := DefaultLayout(g, 32<<20)
		require.NoError(t, err, "erase model %v", em)
		sb, err := store.PlanLayout(g, l.StoreSize, store.FormatOptions{MaxChunks: l.maxChunks(g.EraseSize)})
		require.NoError(t, err)
		require.Greater(t, int(sb.DataBlocks), 2*int(sb.MaxChunks)+64, "erase model %v: room for delta blocks", em)
	}
	// The check fails on a layout that does not fit: a 64 MiB chip.
	g, err := part.GeometryFor(sim.Erase4K)
	require.NoError(t, err)
	g.Size = 64 << 20
	_, err = DefaultLayout(g, 32<<20)
	require.ErrorIs(t, err, ErrLayout)

	if testing.Short() {
		t.Skip("syncs a 32 MiB region")
	}
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 128 << 20, Clock: clock, Seed: 1})
	cfg := DefaultConfig()
	cfg.Types, cfg.GroupSize = info.All(), 0
	p := newPairOf(t, a, b, clock, 32<<20, cfg, 7)
	e := p.open(t)
	ctx := context.Background()
	_, err = e.Round(ctx)
	require.NoError(t, err)
	_, err = p.cmc.Mutate(p.region(t, a), 0.001, false)
	require.NoError(t, err)
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Positive(t, rep.ChangedChunks)
	require.Less(t, rep.DataPages, int64(rep.ChangedChunks)*4, "scattered bytes go as deltas, not whole chunks (16 pages each)")
	requireSynced(t, p, a, b, cfg.Types)
}
