package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// TestRunRetriesAfterTheInterval: a round that fails without a power loss
// (here: an upgrade waiting for its choice) is retried one interval
// later, not at once; each failure is handed to OnRound.
func TestRunRetriesAfterTheInterval(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Interval = 5 * time.Minute
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	_, err := e.Round(context.Background())
	require.NoError(t, err)
	upgradePrimary(t, p, "2.0.0")
	p.clock.Advance(cfg.Interval)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var at []time.Duration
	opts := p.opts
	opts.Clock = &stopClock{Clock: p.clock, sleepsLeft: 10, cancel: cancel} // a bound, should OnRound not cancel
	opts.OnRound = func(_ RoundReport, err error) {
		require.ErrorIs(t, err, ErrUpgradePending)
		at = append(at, p.clock.Elapsed())
		if len(at) == 3 {
			cancel()
		}
	}
	e, err = Open(ctx, p.chipA, p.chipB, opts)
	require.NoError(t, err)
	require.ErrorIs(t, e.Run(ctx), context.Canceled)
	require.Len(t, at, 3)
	for i := 1; i < len(at); i++ {
		gap := at[i] - at[i-1]
		require.GreaterOrEqual(t, gap, cfg.Interval, "retry %d came early", i)
		require.Less(t, gap, cfg.Interval+time.Second, "retry %d came late", i)
	}
}

// TestRunStopsOnAClosedChip: a round failing with hal.ErrClosed ends Run
// with that error, after OnRound saw it.
func TestRunStopsOnAClosedChip(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	var seen []error
	opts := p.opts
	opts.OnRound = func(_ RoundReport, err error) { seen = append(seen, err) }
	e, err := Open(context.Background(), p.chipA, p.chipB, opts)
	require.NoError(t, err)
	require.NoError(t, p.chipB.Close())
	err = e.Run(context.Background())
	require.ErrorIs(t, err, hal.ErrClosed)
	require.Len(t, seen, 1)
	require.ErrorIs(t, seen[0], hal.ErrClosed)
}

// TestRunIdleErases: with Options.IdleErase, Run erases the backup's
// free blocks after a round, before the next is due: afterwards an idle
// erase finds nothing left to erase.
func TestRunIdleErases(t *testing.T) {
	for _, idle := range []bool{false, true} {
		p := newPair(t, 8<<20, 1<<20, DefaultConfig())
		ctx, cancel := context.WithCancel(context.Background())
		opts := p.opts
		opts.IdleErase = idle
		opts.Clock = &stopClock{Clock: p.clock, cancel: cancel} // the first sleep, after the round, ends Run
		rounds := 0
		opts.OnRound = func(_ RoundReport, err error) {
			require.NoError(t, err)
			rounds++
		}
		e, err := Open(ctx, p.chipA, p.chipB, opts)
		require.NoError(t, err)
		require.ErrorIs(t, e.Run(ctx), context.Canceled)
		require.Equal(t, 1, rounds)
		n, err := e.IdleErase(context.Background())
		require.NoError(t, err)
		if idle {
			require.Zero(t, n, "blocks left for an idle erase after Run's")
			require.True(t, p.clock.Now().Before(e.Status().NextSync), "the idle erase ran past the next round's time")
		} else {
			require.Greater(t, n, 1, "blocks an idle erase finds without Run's")
			n, err = e.IdleErase(context.Background())
			require.NoError(t, err)
			require.Zero(t, n, "an idle erase stops only when done")
			step, err := e.IdleEraseStep(context.Background())
			require.NoError(t, err)
			require.Equal(t, IdleEraseProgress{Ready: step.Ready, Done: true}, step)
			require.Positive(t, step.Ready)
		}
		e.Release()
	}
}
