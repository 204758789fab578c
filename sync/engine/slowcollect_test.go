package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestOneSlowReadBeforeTheWritesFailsOver: every read of the primary is one
// request it must answer within the threshold (docs/DESIGN.md, The method,
// step 4), whatever the step that asks it. A single read before the
// round's first backup program that answers correctly but after twice the
// threshold — in the probe or in the collect step's reads of the region,
// change tables and records — is an anomaly whose wait-response exceeds
// the threshold: the round fails over. (The collect step ignored a slow
// read that returned right, and the next probe's mark forgot it: campaign
// small seed=2 replay, a 6 s answer at #30 in readChanged, committed.)
func TestOneSlowReadBeforeTheWritesFailsOver(t *testing.T) {
	cfg := DefaultConfig()
	p := committedPair(t, cfg)
	var reads []int64
	for _, op := range p.traceRound(t, p.opts, "none") {
		if op.Role == faults.Backup && op.Kind == faults.Program {
			break
		}
		if op.Role == faults.Primary && op.Kind == faults.Read {
			reads = append(reads, op.Index)
		}
	}
	require.NotEmpty(t, reads)
	snapA, snapB := p.chipA.Snapshot(), p.chipB.Snapshot()
	var missed []int64
	for _, at := range reads {
		e, _ := p.openWithFaults(t, p.opts, "(on (at %d) (delay %v))", at, 2*cfg.Threshold)
		rep, err := e.Round(context.Background())
		require.NoError(t, err)
		if rep.Outcome != OutcomeFailover {
			missed = append(missed, at)
		}
		p.chipA.Restore(snapA)
		p.chipB.Restore(snapB)
	}
	require.Empty(t, missed, "slow reads (of %v) the round did not fail over on", reads)
}
