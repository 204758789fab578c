package engine

import (
	"context"
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
	for _, tc := range []struct {
		name      string
		threshold time.Duration
		want      string
	}{
		{"one tick below", w - 1, OutcomeFailover},
		{"exactly", w, OutcomeInterrupted},
		{"one tick above", w + 1, OutcomeInterrupted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := run(t, tc.threshold)
			require.Equal(t, w, rep.WaitResponse, "the same schedule, the same wait")
			require.Equal(t, tc.want, rep.Outcome)
		})
	}
}
