package daemon

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// requestCanceller cancels a request's context when the chips reach a
// chosen operation: a client that goes away in the middle of its round.
type requestCanceller struct {
	mu     sync.Mutex
	at     int64
	cancel context.CancelFunc
	fired  atomic.Int64
}

func (c *requestCanceller) arm(at int64, cancel context.CancelFunc) {
	c.mu.Lock()
	c.at, c.cancel = at, cancel
	c.mu.Unlock()
}

func (c *requestCanceller) trace(op faults.Op) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil && op.Index == c.at {
		c.cancel()
		c.cancel = nil
		c.fired.Add(1)
	}
}

// TestAbortedSyncsDoNotInterruptRounds: 30 "sync now" requests whose
// client goes away in the middle of the round (its context is cancelled
// at a chip operation inside the round, a different one each time): every
// round commits; none is interrupted or purged. (With the request's
// context passed to the round, each one was stopped and purged.)
func TestAbortedSyncsDoNotInterruptRounds(t *testing.T) {
	var canceller requestCanceller
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Seed: 3,
		Budget: Budget{Burst: 1000, Every: time.Second}, traceOps: canceller.trace})
	require.NoError(t, err)
	defer d.Close()
	b := d.Backend()
	gen := cmcsim.New(3)
	const requests = 30
	for k := range requests {
		require.NoError(t, d.stepCMC(gen, time.Minute)) // something to sync
		ctx, cancel := context.WithCancel(context.Background())
		canceller.arm(d.injector.Ops()+int64(10+2*k), cancel) // a round makes about 100 operations (its small changes go as deltas)
		round, err := b.SyncNow(ctx)
		require.NoError(t, err, "request %d", k)
		require.Equal(t, engine.OutcomeCommitted, round.Outcome, "request %d: %s", k, round.Error)
		require.Error(t, ctx.Err(), "request %d: the client went away during its round", k)
		cancel()
	}
	require.Equal(t, int64(requests), canceller.fired.Load())
	c := d.Status().Counters
	require.Zero(t, c.Interrupts, "rounds interrupted")
	require.Zero(t, c.Purges, "rounds purged")
	require.Equal(t, int64(requests), c.Commits)
}

// TestShutdownStopsARound: the daemon's own context ending (a shutdown)
// does stop a round in progress: it is purged, as the method says.
func TestShutdownStopsARound(t *testing.T) {
	var canceller requestCanceller
	d, err := Open(context.Background(), Options{Primary: simSpec(t, "flash0", ""), Backup: simSpec(t, "flash1", ""), Seed: 3, traceOps: canceller.trace})
	require.NoError(t, err)
	defer d.Close()
	canceller.arm(d.injector.Ops()+200, d.stop)
	rep, err := d.SyncNow(context.Background())
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, engine.OutcomeInterrupted, rep.Outcome)
}

func TestWaitResponseEvent(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		outcome string
		wait    time.Duration
		want    string // in the detail; "" no event
	}{
		{engine.OutcomeInterrupted, 212 * time.Millisecond, "wait-response 212ms against the 2s threshold: the primary answered within the threshold: no failover"},
		{engine.OutcomeFailover, 3 * time.Second, "wait-response 3s against the 2s threshold: the primary did not answer within the threshold: failed over"},
		{engine.OutcomeCommitted, 0, ""},
		{engine.OutcomeNothingChanged, 0, ""},
	}
	for _, tt := range tests {
		ev, ok := waitResponseEvent(engine.RoundReport{Outcome: tt.outcome, WaitResponse: tt.wait, Generation: 4, Anomaly: "slow"}, 2*time.Second, now)
		require.Equal(t, tt.want != "", ok, tt.outcome)
		if ok {
			require.Contains(t, ev.Detail, tt.want)
			require.Contains(t, ev.Detail, "(anomaly: slow)")
			require.Equal(t, "wait-response", ev.Kind)
			require.Equal(t, uint64(4), ev.Generation)
		}
	}
}
