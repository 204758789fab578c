package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

// TestIdleEraseTakesErasesOffTheRound: once the store's cursor has gone
// round (free blocks are dirty), the round after an idle erase programs
// blocks erased ahead instead of erasing them itself, writes the same
// data, and the idle erase never touches what is committed.
func TestIdleEraseTakesErasesOffTheRound(t *testing.T) {
	if testing.Short() {
		t.Skip("wraps the store's allocation cursor")
	}
	cfg := DefaultConfig()
	cfg.Types, cfg.GroupSize = info.All(), 0
	run := func(idle bool) (erased int, rep RoundReport) {
		p := newPair(t, 8<<20, 1<<20, cfg)
		e := p.open(t)
		ctx := context.Background()
		for range 12 { // whole rewrites: the cursor wraps
			_, err := p.cmc.Mutate(p.region(t, p.chipA), 1, false)
			require.NoError(t, err)
			_, err = e.Round(ctx)
			require.NoError(t, err)
		}
		if idle {
			n, err := e.IdleErase(ctx)
			require.NoError(t, err)
			erased = n
			requireSynced(t, p, p.chipA, p.chipB, cfg.Types) // nothing committed erased
			p2, err := e.IdleEraseStep(ctx)
			require.NoError(t, err)
			require.True(t, p2.Done)
			require.Zero(t, p2.Erased)
		}
		_, err := p.cmc.Mutate(p.region(t, p.chipA), 0.5, true)
		require.NoError(t, err)
		rep, err = e.Round(ctx)
		require.NoError(t, err)
		require.Equal(t, OutcomeCommitted, rep.Outcome)
		requireSynced(t, p, p.chipA, p.chipB, cfg.Types)
		return erased, rep
	}
	_, without := run(false)
	erased, with := run(true)
	require.Positive(t, erased)
	require.Positive(t, without.DataErases)
	require.Less(t, with.DataErases, without.DataErases, "the idle erase did the round's erases")
	require.Equal(t, without.ChangedChunks, with.ChangedChunks)
}
