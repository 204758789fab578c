package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// The harness mutants (mutant.go) are deliberately broken engines that the
// fault campaigns must catch; each must break only what its description
// says. These tests pin that for two of them, without any fault.

// TestDeltaBeforeDurableSyncsWithoutAFault: the delta-before-durable
// mutant only moves the commit record before the round's delta blocks; a
// round no fault interrupts still writes them, so the backup holds the
// primary's information, as with the real engine.
func TestDeltaBeforeDurableSyncsWithoutAFault(t *testing.T) {
	for _, m := range []Mutant{None, DeltaBeforeDurable} {
		t.Run(m.String(), func(t *testing.T) {
			ctx := context.Background()
			cfg := DefaultConfig()
			cfg.Types, cfg.GroupSize = info.All(), 0
			p := newPair(t, 8<<20, 1<<20, cfg)
			p.opts.Mutant = m
			e := p.open(t)
			_, err := e.Round(ctx)
			require.NoError(t, err)
			_, err = p.cmc.Mutate(p.region(t, p.chipA), 0.001, false)
			require.NoError(t, err)
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			require.Positive(t, rep.ChangedChunks)
			require.Less(t, rep.DataPages, int64(rep.ChangedChunks)*4, "scattered bytes go as deltas, not whole chunks (16 pages each)")
			require.Equal(t, uint64(2), e.Status().Generation)
			requireSynced(t, p, p.chipA, p.chipB, cfg.Types)
		})
	}
}

// TestScrubRepairExtraSchedulesTheNextChunk: the scrub-repair-extra mutant
// schedules, besides the damaged chunk the scrub found (chunk 2 of the
// event log, its primary copy intact), the next chunk of the type, which
// the next round rewrites too; the real engine schedules the damaged chunk
// alone.
func TestScrubRepairExtraSchedulesTheNextChunk(t *testing.T) {
	for _, tc := range []struct {
		m       Mutant
		repairs []int
	}{
		{None, []int{2}},
		{ScrubRepairExtra, []int{2, 3}},
	} {
		t.Run(tc.m.String(), func(t *testing.T) {
			ctx := context.Background()
			p := syncedPairAfter(t, DefaultConfig(), 0)
			p.opts.Mutant = tc.m
			l := p.opts.Layout
			chunk := p.chipB.Geometry().EraseSize
			s, err := store.Open(p.chipB, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			ts, ok := s.StateRef().Type(uint8(info.EventLog))
			require.True(t, ok)
			require.Greater(t, len(ts.Chunks), 3)
			const damaged = 2
			backupOff := s.BlockOffset(ts.Chunks[damaged].Block)
			e, _ := p.openWithFaults(t, p.opts, "(on (at 0) (flip backup %#x %#x 1))", backupOff, backupOff+chunk)
			for step := 0; ; step++ {
				require.Less(t, step, 10000, "the pass ends")
				prog, err := e.ScrubStep(ctx)
				require.NoError(t, err)
				if prog.PassDone {
					break
				}
			}
			require.Equal(t, tc.repairs, e.rewriteChunks[info.EventLog], "chunks scheduled for rewriting")
			rep, err := e.Round(ctx)
			require.NoError(t, err)
			require.Equal(t, OutcomeCommitted, rep.Outcome)
			require.Equal(t, len(tc.repairs), rep.ChangedChunks, "chunks rewritten by the round after the scrub (%v)", tc.m)
		})
	}
}
