package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRoundWithoutDamageRepairsNothing: with no scrub damage to repair, a
// round of a group covers exactly the group's types (no other type joins
// it as "damage to repair") and a commit logs no repair event.
func TestRoundWithoutDamageRepairsNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GroupSize = 1
	p := newPair(t, 8<<20, 1<<20, cfg)
	e := p.open(t)
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
		rep, err := e.Round(ctx)
		require.NoError(t, err)
		require.Equal(t, OutcomeCommitted, rep.Outcome, "round %d", i)
		require.Equal(t, TypeList{cfg.Types[i]}, rep.Types, "round %d: the group's one type", i)
	}
	require.NotContains(t, eventKinds(e), EventRepair)
	require.Equal(t, int64(3), e.Status().Counters.Commits)
}
