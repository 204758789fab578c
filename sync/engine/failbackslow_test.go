package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailbackRefusesASlowChip: chip A answers every read right but each
// one only after more than the threshold; the failback's health check
// refuses it (ErrChipUnhealthy) and writes nothing, as it does for a chip
// that does not answer.
func TestFailbackRefusesASlowChip(t *testing.T) {
	p, _ := failedOverPair(t)
	before := readRange(t, p.chipA, 0, p.chipA.Geometry().Size)
	slow := p.opts
	e, _ := p.openWithFaults(t, slow, "(on (and primary read) (delay %v))", DefaultConfig().Threshold*2)
	_, err := e.Failback(context.Background())
	require.ErrorIs(t, err, ErrChipUnhealthy)
	require.ErrorContains(t, err, "above the threshold")
	require.Equal(t, 1, e.Status().ActiveChip)
	require.Equal(t, before, readRange(t, p.chipA, 0, p.chipA.Geometry().Size), "a refusal writes nothing")
}
