package engine

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestApplyRefusedAfterAFailover: a round prepared with chip A active is
// refused once a failover made chip B active, and the error names that
// change (the first check; the backup is now chip A's store, at another
// generation, which the generation check would also refuse). Nothing is
// written.
func TestApplyRefusedAfterAFailover(t *testing.T) {
	ctx := context.Background()
	p := syncedPairAfter(t, DefaultConfig(), time.Hour)
	in, chipA, chipB := p.injector(t, true, nil, "(on (and primary read) (fail timeout))")
	e, err := Open(ctx, chipA, chipB, p.opts)
	require.NoError(t, err)
	prep, _, err := e.Prepare(ctx)
	require.NoError(t, err)
	require.NotNil(t, prep)
	gen := e.Status().Generation

	in.Arm() // chip A stops answering
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	in.Disarm()
	require.Equal(t, 1, e.Status().ActiveChip)
	require.Equal(t, gen, e.Status().Generation)

	a, b := chipBytes(t, p.chipA), chipBytes(t, p.chipB)
	_, err = e.Apply(ctx, prep)
	require.ErrorIs(t, err, ErrStale)
	require.EqualError(t, err, ErrStale.Error()+": prepared with chip 0 active, chip 1 is now")
	require.True(t, bytes.Equal(a, chipBytes(t, p.chipA)), "chip A written")
	require.True(t, bytes.Equal(b, chipBytes(t, p.chipB)), "chip B written")
	require.Equal(t, gen, e.Status().Generation)
}
