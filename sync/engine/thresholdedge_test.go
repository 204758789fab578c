package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFailoverExactlyAtTheThreshold: the primary fails three reads in the
// middle of the writes and then answers healthily; the wait-response time
// w (on the virtual clock, fixed by the schedule) is measured once. With
// the threshold set to w the primary answered within it (no failover);
// one clock tick (1 ns) less and it did not (failover); one tick more and
// it did.
func TestFailoverExactlyAtTheThreshold(t *testing.T) {
	run := func(t *testing.T, threshold time.Duration) RoundReport {
		cfg := DefaultConfig()
		cfg.Threshold = threshold
		p := committedPair(t, cfg)
		n := midWrite(t, p.traceRound(t, p.opts, "none"))
		e, _ := p.openWithFaults(t, p.opts, "(on (and primary read (after %d) (before %d)) (fail timeout))", n, n+3)
		rep, err := e.Round(context.Background())
		require.NoError(t, err)
		want := 0
		if rep.Outcome == OutcomeFailover {
			want = 1
		}
		require.Equal(t, want, e.Status().ActiveChip)
		return rep
	}
	base := run(t, DefaultConfig().Threshold)
	require.Equal(t, OutcomeInterrupted, base.Outcome)
	w := base.WaitResponse
	require.Positive(t, w)
	t.Logf("wait-response %v", w)
	requireThresholdEdge(t, w, run)
}

// requireThresholdEdge runs the same schedule with the threshold one
// clock tick below the wait-response time w it measured (failover), at w
// and one tick above (interrupted, no failover), and wants the same wait
// each time.
func requireThresholdEdge(t *testing.T, w time.Duration, run func(*testing.T, time.Duration) RoundReport) {
	t.Helper()
	for _, tc := range []struct {
		name      string
		threshold time.Duration
		want      string
	}{
		{"one tick below the wait", w - 1, OutcomeFailover},
		{"exactly the wait", w, OutcomeInterrupted},
		{"one tick above the wait", w + 1, OutcomeInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.threshold)
			require.Equal(t, w, rep.WaitResponse, "the same schedule, the same wait")
			require.Equal(t, tc.want, rep.Outcome)
		})
	}
}

// TestFailedProbeExactlyAtTheThreshold: the wait-response step probes
// again while the wait is at most the threshold. Two reads of the primary
// fail (the anomaly and, after a second, the first probe), the second
// probe answers; the failed probe's time w1 is the difference of the
// waits with two and with one failed read (the probe after the failure
// is the same; the case one tick below checks w1 exactly). With the threshold at w1 the
// engine probes once more and fails over reporting the answer's wait
// (above the threshold); one tick below, it stops at w1; every failover
// reports a wait above its threshold.
func TestFailedProbeExactlyAtTheThreshold(t *testing.T) {
	run := func(t *testing.T, threshold time.Duration, fails int) RoundReport {
		cfg := DefaultConfig()
		cfg.Threshold = threshold
		p := committedPair(t, cfg)
		n := midWrite(t, p.traceRound(t, p.opts, "none"))
		sched := fmt.Sprintf("(on (at %d) (fail timeout))", n)
		if fails == 2 {
			sched += fmt.Sprintf(" (on (at %d) (delay 1s)) (on (at %d) (fail timeout))", n+1, n+1)
		}
		e, _ := p.openWithFaults(t, p.opts, "%s", sched)
		rep, err := e.Round(context.Background())
		require.NoError(t, err)
		return rep
	}
	def := DefaultConfig().Threshold
	one, two := run(t, def, 1), run(t, def, 2)
	require.Equal(t, OutcomeInterrupted, one.Outcome)
	require.Equal(t, OutcomeInterrupted, two.Outcome)
	w1 := two.WaitResponse - one.WaitResponse
	require.Positive(t, w1)
	t.Logf("waits %v, %v: the failed probe at %v", one.WaitResponse, two.WaitResponse, w1)
	for _, tc := range []struct {
		name      string
		threshold time.Duration
		wait      time.Duration
	}{
		{"one tick below", w1 - 1, w1},
		{"exactly", w1, two.WaitResponse},
		{"one tick above", w1 + 1, two.WaitResponse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.threshold, 2)
			require.Equal(t, OutcomeFailover, rep.Outcome)
			require.Equal(t, tc.wait, rep.WaitResponse)
			require.Greater(t, rep.WaitResponse, tc.threshold, "a failover reports a wait above the threshold")
		})
	}
}
