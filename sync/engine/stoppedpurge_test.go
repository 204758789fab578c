package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestStoppedRoundReportsTheFailedPurge: a round whose context is
// cancelled in the middle of its chunk writes stops and purges its
// blocks; when that purge fails (every erase of the backup from there on
// fails, by the schedule), the round's error and its report carry the
// purge's error as well as the cancellation; once the erases work again,
// the next round purges what is left and commits.
func TestStoppedRoundReportsTheFailedPurge(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The trace cancels the round's context at operation n (a probe of the
	// primary between the round's chunk writes), so the round stops
	// before its next chunk.
	in, chipA, chipB := p.injector(t, true, func(op faults.Op) {
		if op.Index == n {
			cancel()
		}
	}, "(on (and backup erase (after %d)) (fail media))", n)
	e, err := Open(context.Background(), chipA, chipB, p.opts)
	require.NoError(t, err)
	in.Arm()
	rep, err := e.Round(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, OutcomeInterrupted, rep.Outcome, "%+v", rep)
	require.Greater(t, rep.PurgedBlocks, 0, "the round was stopped while writing")
	require.Contains(t, err.Error(), "purge generation", "the round's error drops the purge's")
	require.Contains(t, rep.Error, "purge generation", "the report drops the purge's error")
	require.Contains(t, eventKinds(e), EventError)
	require.NotContains(t, eventKinds(e), EventPurgeVerified)
	st := e.Status()
	require.Equal(t, int64(1), st.Counters.Interrupts)
	require.Equal(t, int64(1), st.Counters.Errors, "a stopped round is a failure (docs/API.md: rounds interrupted or failed), counted once")
	require.Contains(t, st.LastError, "round stopped: context canceled")

	// Once the erases work again, the same engine's next round purges the
	// interrupted round it still holds, then commits.
	in.Disarm()
	rep, err = e.Round(context.Background())
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome, "%+v", rep)
	require.Contains(t, eventKinds(e), EventPurgeVerified)
}
