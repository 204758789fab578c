package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestFormatCutsResume: power cuts in the lifecycle's format step (at each
// of its first formatCutsFirst operations, where the chips' format intents
// are written, then at every formatCutsEvery-th; cuts, not the torn
// variants), judged as the lifecycle campaign judges them: the next start finishes a cut format
// (engine.FormatWasCut, which probes both store ranges) or opens a
// finished one, and every later check holds. TestLifecycleCampaignShard
// runs one shard of sixteen of the life's points, which need not hold a
// cut of the format (seen: cutting at operation 2, after one chip's intent,
// makes a start that reads a block past a blank store range refuse the
// chips): this test makes the stage see them. About 3000 cuts would be 12
// CPU s; these are about 200.
func TestFormatCutsResume(t *testing.T) {
	if testing.Short() {
		t.Skip("records a life")
	}
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(ctx, sc, 1, engine.None)
	require.NoError(t, err)
	w, err := l.newWorker()
	require.NoError(t, err)
	const formatCutsFirst, formatCutsEvery = 32, 16
	n := 0
	for _, lp := range l.lifePoints() {
		if l.ops[lp.op].step != stepFormat || lp.p.kind != pointCut || lp.op >= formatCutsFirst && lp.op%formatCutsEvery != 0 {
			continue
		}
		r, err := l.runPoint(ctx, w, lp)
		require.NoError(t, err)
		for _, v := range r.verdicts {
			require.True(t, v.OK, "%s: %s", r.testCase, v)
		}
		n++
	}
	t.Logf("%d cuts of the format step judged", n)
	require.Positive(t, n)
}
