package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestFormatCutsResume: power cuts in the lifecycle's format step (at each
// of its first formatCutsFirst operations, where the chips' format intents
// are written, then at every formatCutsEvery-th), and every cut and torn
// variant of its programs and erases of the superblock slots (the first
// two blocks of a store range), judged as the lifecycle campaign judges
// them: the next start finishes a cut format
// (engine.FormatWasCut, which probes both store ranges) or opens a
// finished one, and every later check holds. TestLifecycleCampaignShard
// runs one shard of sixteen of the life's points, which need not hold a
// cut of the format (seen: cutting at operation 2, after one chip's intent,
// makes a start that reads a block past a blank store range refuse the
// chips; a torn program of a superblock copy, a start that reads copy 0
// for both copies taking a finished format for a cut one): this test makes
// the stage see them. All 2985 cuts and their torn variants would be
// about 12 CPU s.
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
	e := w.chips[0].Geometry().EraseSize
	n := 0
	for _, lp := range l.lifePoints() {
		lop := l.ops[lp.op]
		if lop.step != stepFormat {
			continue
		}
		superblocks := lop.op.Kind != faults.Read && lop.op.Off < l.layout.StoreOff+2*e && lop.op.Off+lop.op.Len > l.layout.StoreOff
		sampled := lp.p.kind == pointCut && (lp.op < formatCutsFirst || lp.op%formatCutsEvery == 0)
		if !superblocks && !sampled {
			continue
		}
		r, err := l.runPoint(ctx, w, lp)
		require.NoError(t, err)
		for _, v := range r.verdicts {
			require.True(t, v.OK, "%s: %s", r.testCase, v)
		}
		n++
	}
	t.Logf("%d points of the format step judged", n)
	require.Positive(t, n)
}
