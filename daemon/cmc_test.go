package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestCMCStepChangesThePrimary: after a step of the simulated CMC a round
// has something to sync; without one it has nothing.
func TestCMCStepChangesThePrimary(t *testing.T) {
	tests := []struct {
		name    string
		step    time.Duration
		outcome string
	}{
		{"no activity", 0, engine.OutcomeNothingChanged},
		{"an hour of activity", time.Hour, engine.OutcomeCommitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openSim(t, 5)
			_, err := d.SyncNow(context.Background())
			require.NoError(t, err)
			if tt.step > 0 {
				require.NoError(t, d.stepCMC(cmcsim.New(5), tt.step))
			}
			rep, err := d.SyncNow(context.Background())
			require.NoError(t, err)
			require.Equal(t, tt.outcome, rep.Outcome)
			if tt.step > 0 {
				require.NotEmpty(t, rep.ChangedTypes)
			}
		})
	}
}

// TestRunRunsTheCMC: with Options.CMCStep, Run keeps changing the
// primary's information on simulated chips.
func TestRunRunsTheCMC(t *testing.T) {
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Seed: 2, CMCStep: time.Millisecond})
	require.NoError(t, err)
	defer d.Close()
	_, err = d.SyncNow(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	require.Eventually(t, func() bool {
		rep, err := d.SyncNow(context.Background())
		require.NoError(t, err)
		return rep.Outcome == engine.OutcomeCommitted && len(rep.ChangedTypes) > 0
	}, 30*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// TestCMCFailureLoggedOnce: a CMC that cannot write (closed chips) says so
// once, not at every step.
func TestCMCFailureLoggedOnce(t *testing.T) {
	var log lineLog
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Logf: log.logf})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.simulateCMC(ctx, time.Millisecond); close(done) }()
	require.Eventually(t, func() bool { return log.count("simulated CMC") > 0 }, 30*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // many more failing steps
	cancel()
	<-done
	require.Equal(t, 1, log.count("simulated CMC: "))
	require.Equal(t, 1, log.count("closed"))
}
