package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestScrubRepairExtraIsCaught: the harness mutant scrub-repair-extra (a
// chunk the scrub found damaged is rewritten with the next chunk of its
// type) breaks scrub-exact at a cut of the lifecycle's scrub step, and so
// does every variant of it: the life's damaged types hold more than one
// chunk, so a harness whose mutant were made harmless there (the
// engine's `len(ts.Chunks) > 1` turned around) would go uncaught. The
// campaign stage of make mutate runs this one (TestLifecycleMutantsAreCaught,
// which also replays each mutant's violation, is not in it: it runs all
// five lifecycle mutants).
func TestScrubRepairExtraIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("records a life")
	}
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(ctx, sc, 1, engine.ScrubRepairExtra)
	require.NoError(t, err)
	w, err := l.newWorker()
	require.NoError(t, err)
	for _, lp := range l.lifePoints() {
		if l.ops[lp.op].step != stepScrub {
			continue
		}
		r, err := l.runPoint(ctx, w, lp)
		require.NoError(t, err)
		if v := verdictOf(r.verdicts, ScrubExact); !v.OK {
			t.Logf("caught: %s\n\t%s", r.testCase, v.Saw)
			return
		}
	}
	t.Fatalf("scrub-repair-extra not caught by %s in step %s", ScrubExact, stepNames[stepScrub])
}
