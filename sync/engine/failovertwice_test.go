package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestFailoverFromChipBMakesChipAActive: after a failover to chip B and a
// round committed from it (into chip A's store), chip B stops answering
// too: the second failover makes chip A active again (role epoch 2),
// restores chip A's region from the generation committed from chip B,
// and the role survives a restart.
func TestFailoverFromChipBMakesChipAActive(t *testing.T) {
	p := newPair(t, 8<<20, 1<<20, DefaultConfig())
	ctx := context.Background()
	_, err := p.open(t).Round(ctx)
	require.NoError(t, err)
	failOver(t, p)

	e := p.open(t)
	require.Equal(t, 1, e.Status().ActiveChip)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipB), time.Hour))
	rep, err := e.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	gen := rep.Generation
	want := committedPayloads(t, p, p.chipA)
	got, err := regionPayloads(p, p.chipB)
	require.NoError(t, err)
	require.Equal(t, want, got, "chip A's store holds chip B's information")
	require.NoError(t, p.cmc.Step(p.region(t, p.chipB), time.Hour))

	// The injector's "backup" is chip B (it wraps chip A as the primary
	// role and chip B as the backup role whatever the engine's roles).
	e2, _ := p.openWithFaults(t, p.opts, "(on (and backup read) (fail timeout))")
	require.Equal(t, 1, e2.Status().ActiveChip)
	epoch := e2.Status().RoleEpoch
	rep, err = e2.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeFailover, rep.Outcome)
	st := e2.Status()
	require.Equal(t, 0, st.ActiveChip)
	require.Equal(t, epoch+1, st.RoleEpoch)
	require.Equal(t, uint64(2), st.RoleEpoch)
	require.Equal(t, int64(1), st.Counters.Failovers)
	require.Equal(t, gen, st.Generation)
	got, err = regionPayloads(p, p.chipA)
	require.NoError(t, err)
	require.Equal(t, want, got, "chip A's region restored from generation %d", gen)
	require.Same(t, p.chipA, e2.Primary().(*faults.Flash).Unwrap())

	e3 := p.open(t)
	require.Equal(t, 0, e3.Status().ActiveChip)
	require.Equal(t, uint64(2), e3.Status().RoleEpoch)
	require.NoError(t, p.cmc.Step(p.region(t, p.chipA), time.Hour))
	rep, err = e3.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, OutcomeCommitted, rep.Outcome)
	requireSynced(t, p, p.chipA, p.chipB, info.All())
}
