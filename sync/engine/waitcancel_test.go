package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCanceledWaitDecidesNoFailover: a context that ends during the
// wait-response step (canceled as the interrupt is logged, here; the
// primary would never answer) leaves no verdict: the round is
// interrupted, not failed over, and chip A stays active. Every event
// reaches Options.Logf.
func TestCanceledWaitDecidesNoFailover(t *testing.T) {
	p := committedPair(t, DefaultConfig())
	n := midWrite(t, p.traceRound(t, p.opts, "none"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var lines []string
	opts := p.opts
	opts.Logf = func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		lines = append(lines, line)
		if strings.Contains(line, string(EventInterrupt)) {
			cancel()
		}
	}
	e, _ := p.openWithFaults(t, opts, "(on (and primary read (after %d)) (fail timeout))", n)
	gen := e.Status().Generation
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeInterrupted, rep.Outcome)
	require.Less(t, rep.WaitResponse, DefaultConfig().Threshold)
	st := e.Status()
	require.Equal(t, 0, st.ActiveChip)
	require.Equal(t, uint64(0), st.RoleEpoch)
	require.Equal(t, gen, st.Generation)
	require.Zero(t, st.Counters.Failovers)
	require.Equal(t, int64(1), st.Counters.Interrupts)
	require.NotContains(t, eventKinds(e), EventFailover)
	require.Len(t, lines, len(e.Events()), "every event logged")
}
