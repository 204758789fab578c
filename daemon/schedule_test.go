package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestRunSchedulesRounds: Run runs the first round at once (a new store
// has never synced), hands it to the recorder, and returns nil when its
// context ends.
func TestRunSchedulesRounds(t *testing.T) {
	d := openSim(t, 1)
	var log roundLog
	d.SetRecorder(&log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool { return len(log.all()) > 0 }, 30*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	r := log.all()[0]
	require.Equal(t, engine.OutcomeCommitted, r.Outcome)
	require.Equal(t, uint64(1), r.Generation)
	require.Equal(t, r.BytesWritten, d.BytesWritten())
	require.Positive(t, d.BytesWritten())
}

// TestRunStopsOnClosedChips: a round that finds the backup chip closed
// stops Run with the error, after recording the round.
func TestRunStopsOnClosedChips(t *testing.T) {
	d := openSim(t, 1)
	var log roundLog
	d.SetRecorder(&log)
	require.NoError(t, hal.Close(d.raw[1])) // the chip below the daemon's wrappers
	err := d.Run(context.Background())
	require.ErrorIs(t, err, hal.ErrClosed)
	rounds := log.all()
	require.Len(t, rounds, 1)
	require.Equal(t, engine.OutcomeError, rounds[0].Outcome)
	require.Contains(t, rounds[0].Error, "closed")
}

func TestSyncNow(t *testing.T) {
	d := openSim(t, 1)
	var log roundLog
	d.SetRecorder(&log)
	rep, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	require.Equal(t, engine.OutcomeCommitted, rep.Outcome)
	require.Equal(t, uint64(1), d.Status().Generation)
	rep2, err := d.SyncNow(context.Background())
	require.NoError(t, err)
	require.Equal(t, engine.OutcomeNothingChanged, rep2.Outcome)
	require.Equal(t, rep.BytesWritten+rep2.BytesWritten, d.BytesWritten())
	require.Empty(t, log.all(), "rounds run on demand are the caller's to record")
}
