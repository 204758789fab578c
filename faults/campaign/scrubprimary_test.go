package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestScrubFindsThePrimaryDamagedToo: the lifecycle's scrub-repair step
// with bit rot in the primary's copy as well as the backup's. On the
// lifecycle's store after its first round, the chunks the scrub step
// damages in the backup (lifeRun.damage) are damaged, and the first of
// them also in the primary's record of its type: a byte of the chunk's
// payload changed under the record's header, whose payload CRC no longer
// matches (rot, not a CMC write). A whole scrub pass must classify that
// chunk unrepairable and the others rewrite, and the backup's health
// unrepairable (docs/API.md, backup health: "unrepairable (the primary's
// copy is damaged too)"). The chunk's place in the primary's record comes
// from the information region's extent of its type and the committed
// type's size and phase as the reference decoder reads them (docs/FORMAT.md
// chunk bounds). The scrub step of the life damages the backup only, so
// without this test the campaign stage never sees a scrub that reads a
// damaged primary record to its end.
func TestScrubFindsThePrimaryDamagedToo(t *testing.T) {
	if testing.Short() {
		t.Skip("formats a store and runs a round")
	}
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	r, err := newLifeRun(sc, 1, engine.None, faults.Schedule{}, nil)
	require.NoError(t, err)
	opts := lifeOptions(sc, r.layout, r.clock, engine.None)
	a, b := r.chips[0], r.chips[1]
	g := cmcsim.New(1)
	_, err = engine.FormatAndFill(a, b, opts, g.Populate)
	require.NoError(t, err)
	e, err := engine.Open(ctx, a, b, opts)
	require.NoError(t, err)
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, engine.OutcomeCommitted, rep.Outcome, rep.Error)
	e.Release()

	nb, err := newestBackup(r.chips, r.layout)
	require.NoError(t, err)
	require.Equal(t, 1, nb.chip, "the backup's store is the newest")
	damaged := r.damage(nb.bk)
	require.Len(t, damaged, scrubDamaged)
	rot := damaged[0]
	ts, ok := nb.bk.Committed.Type(rot.Type)
	require.True(t, ok)
	region, err := info.OpenRegion(a, r.layout.InfoOff, r.layout.InfoSize)
	require.NoError(t, err)
	rec, _ := region.Extent(info.Type(rot.Type))
	lo, hi := reference.ChunkBounds(ts.Size, int64(ts.Phase), nb.bk.Superblock.EraseSize, int64(rot.Index))
	off := rec + info.RecordHeaderSize + lo + (hi-lo)/2
	bt := make([]byte, 1)
	_, err = a.ReadAt(bt, off)
	require.NoError(t, err)
	a.Poke(off, []byte{bt[0] ^ 0x10})

	e, err = engine.Open(ctx, a, b, opts)
	require.NoError(t, err)
	defer e.Release()
	require.NoError(t, scrubPass(ctx, e))
	st := e.Status()
	got := map[chunkRef]string{}
	for _, d := range st.ScrubDamage {
		got[chunkRef{Type: uint8(d.Type), Index: d.Index}] = d.Repair
	}
	want := map[chunkRef]string{}
	for _, c := range damaged {
		want[c] = engine.RepairRewrite
	}
	want[rot] = engine.RepairImpossible
	require.Equal(t, want, got, "Status.ScrubDamage after a pass; %v is damaged in the primary's record too", rot)
	require.Equal(t, engine.HealthUnrepairable, st.BackupHealth)
}
