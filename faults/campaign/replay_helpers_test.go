package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// replayAllOK replays line on a fresh worker of its scenario (the real
// engine) and requires every invariant to hold; it returns the bench, the
// worker (its chips hold the state after the live round) and the verdicts.
func replayAllOK(t *testing.T, line string) (*bench, *worker, []Verdict) {
	t.Helper()
	ctx := context.Background()
	c, err := ParseCase(line)
	require.NoError(t, err)
	b, err := loadBench(ctx, c.Scenario, c.Seed, engine.None)
	require.NoError(t, err)
	w, err := newWorker(b)
	require.NoError(t, err)
	r, err := w.replay(ctx, c)
	require.NoError(t, err)
	for _, v := range r.verdicts {
		require.True(t, v.OK, "%s", v)
	}
	return b, w, r.verdicts
}
