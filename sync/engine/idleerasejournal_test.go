package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestIdleEraseReadiesOneJournalBlockMore: the idle erase keeps as many
// erased journal blocks past the tail as the last round wrote records
// into, and one more; the next round then erases no journal block.
func TestIdleEraseReadiesOneJournalBlockMore(t *testing.T) {
	p := syncedPairAfter(t, DefaultConfig(), time.Hour)
	e := p.open(t)
	ctx := context.Background()
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	bk, err := e.backupStore()
	require.NoError(t, err)
	used := bk.JournalBlocksUsed()
	require.Positive(t, used)
	_, err = e.IdleErase(ctx)
	require.NoError(t, err)
	// Asked for exactly one block more than the round used, the store has
	// nothing left to erase: the idle erase readied them all.
	js, err := bk.EraseJournalAhead(used + 1)
	require.NoError(t, err)
	require.True(t, js.Done)
	require.Zero(t, js.Erased)
	require.Equal(t, used+1, js.Ready)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
	rep, err = e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	require.Zero(t, rep.Erases, "the round's journal blocks were erased ahead")
}
