package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// TestOpenWithFailingUpgrade: a restore-defaults whose mark is durable is
// completed at Open; when that completion fails (every program of the
// primary fails), Open still returns the engine, with the failure in
// Status.LastError and counted, and the restore still incomplete. A later
// Open on healthy chips completes it and clears the error.
func TestOpenWithFailingUpgrade(t *testing.T) {
	ctx := context.Background()
	p, snapA, snapB, ops := tracedRestoreDefaults(t)
	l := p.opts.Layout

	// The first program of the defaults into the primary's region: the
	// mark is durable by then.
	first := int64(-1)
	for _, op := range ops {
		if op.Role == faults.Primary && op.Kind == faults.Program && op.Off >= l.InfoOff && op.Off < l.InfoOff+l.InfoSize {
			first = op.Index
			break
		}
	}
	require.GreaterOrEqual(t, first, int64(0))
	p.chipA.Restore(snapA)
	p.chipB.Restore(snapB)
	e, _ := p.openWithFaults(t, p.opts, "(on (at %d) cut)", first)
	require.ErrorIs(t, e.Upgrade(RestoreDefaults), hal.ErrPowerLoss)

	// Open with every program of the primary failing: the completion fails.
	_, failA, okB := p.injector(t, false, nil, "(on (and primary program) (fail media))")
	e, err := Open(ctx, failA, okB, p.opts)
	require.NoError(t, err, "a failed upgrade at Open leaves the engine usable")
	st := e.Status()
	require.NotEmpty(t, st.LastError, "the failed completion is reported")
	require.Positive(t, st.Counters.Errors)
	require.True(t, st.RestoreIncomplete, "the restore is still to complete")

	// Healthy chips: Open completes it, no error.
	st = p.open(t).Status()
	require.Empty(t, st.LastError)
	require.False(t, st.RestoreIncomplete)
	require.False(t, st.UpgradePending)
	require.Equal(t, RestoreDefaults, st.UpgradeChoice)
}
