package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenCountsTheRecovery: an Open that finds an interrupted round on
// the backup counts one recovery (and logs it); the next Open, with
// nothing left to recover, counts none.
func TestOpenCountsTheRecovery(t *testing.T) {
	s := interruptedScenario(t)
	p := s.pair
	e, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Equal(t, int64(1), e.Status().Counters.Recoveries)
	n := 0
	for _, k := range eventKinds(e) {
		if k == EventRecovery {
			n++
		}
	}
	require.Equal(t, 1, n, "recovery events")
	e.Release()
	e2, err := Open(context.Background(), p.chipA, p.chipB, p.opts)
	require.NoError(t, err)
	require.Zero(t, e2.Status().Counters.Recoveries)
}
