package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// lifecycleSample is the share of the lifecycle's cuts TestLifecycle runs
// (one shard of this many, chosen by the seed; four times fewer with
// -short); make campaign-lifecycle
// runs them all.
const lifecycleSample = 4

// TestLifecycle runs a seeded sample of the lifecycle campaign's cuts
// (every step cut and torn at operations spread over the whole life) and
// wants no violation; the recorded life has each step's operations.
func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	const seed = 1
	l, err := recordLifecycle(ctx, sc, seed, engine.None)
	require.NoError(t, err)
	writes := map[int]int{}
	for _, op := range l.ops {
		if op.op.Kind != faults.Read {
			writes[op.step]++
		}
	}
	for s := range lifeSteps {
		require.Positive(t, writes[s], "step %s writes to flash", stepNames[s])
	}
	require.Len(t, l.facts[stepScrub].damaged, scrubDamaged)

	shard := Shard{Index: int(seed % lifecycleSample), Count: lifecycleSample}
	if testing.Short() {
		shard.Count *= 4
	}
	rep, err := Run(ctx, Options{Scenario: LifecycleScenario, Seed: seed, Workers: 2, Shard: shard})
	require.NoError(t, err)
	t.Logf("lifecycle shard %v: %d points (%d torn) %v in %.1fs", shard, rep.FaultPoints, rep.TornVariants, rep.Kinds, rep.WallSeconds)
	for _, inv := range LifecycleInvariants() {
		require.Positive(t, rep.Checks[inv], "invariant %s never checked", inv)
	}
	for _, v := range rep.Violations {
		t.Errorf("%s\n\t%s: %s", v.Replay, v.Invariant, v.Detail)
	}
	require.Zero(t, rep.ViolationsTotal)
}

// TestLifecycleMutantsAreCaught: each mutant of the engine's life around
// the rounds breaks its invariant at some cut of the step it belongs to,
// and the violation's replay line, run from the start without branching,
// breaks the same invariant with the same finding.
func TestLifecycleMutantsAreCaught(t *testing.T) {
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	for _, tc := range []struct {
		mutant    engine.Mutant
		step      int
		invariant string
	}{
		{engine.ConfigNotDurable, stepConfig, ConfigDurable},
		{engine.UpgradeForgotten, stepKeep, UpgradeKept},
		{engine.RestoreForgotten, stepRestore, PrimaryNotTorn},
		{engine.ScrubRepairExtra, stepScrub, ScrubExact},
		{engine.FormatLateIntent, stepFormat, FormatResumable},
	} {
		t.Run(tc.mutant.String(), func(t *testing.T) {
			l, err := recordLifecycle(ctx, sc, 1, tc.mutant)
			require.NoError(t, err)
			w, err := l.newWorker()
			require.NoError(t, err)
			var caught *Violation
			for _, lp := range l.lifePoints() {
				if l.ops[lp.op].step != tc.step {
					continue
				}
				r, err := l.runPoint(ctx, w, lp)
				require.NoError(t, err)
				if v := verdictOf(r.verdicts, tc.invariant); !v.OK {
					caught = &Violation{Replay: r.testCase.String(), Invariant: v.Invariant, Detail: v.Saw}
					break
				}
			}
			require.NotNil(t, caught, "mutant %v not caught by %s in step %s", tc.mutant, tc.invariant, stepNames[tc.step])
			t.Logf("caught: %s\n\t%s: %s", caught.Replay, caught.Invariant, caught.Detail)
			c, err := ParseCase(caught.Replay)
			require.NoError(t, err)
			require.Equal(t, caught.Replay, c.String())
			vs, err := Replay(ctx, c)
			require.NoError(t, err)
			got := verdictOf(vs, tc.invariant)
			require.False(t, got.OK, "replay of %q does not break %s: %s", caught.Replay, tc.invariant, got.Saw)
			require.Equal(t, caught.Detail, got.Saw)
		})
	}
}

// TestLifecycleBranchingEqualsReplay: judging a cut by branching from the
// recorded life's snapshots gives the verdicts of running the life from
// the start up to the same cut.
func TestLifecycleBranchingEqualsReplay(t *testing.T) {
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(ctx, sc, 1, engine.None)
	require.NoError(t, err)
	w, err := l.newWorker()
	require.NoError(t, err)
	seen := map[int]int{}
	for n, lp := range l.lifePoints() {
		step := l.ops[lp.op].step
		if seen[step] >= 3 || n%5 != 0 || lp.p.unstable {
			continue
		}
		seen[step]++
		r, err := l.runPoint(ctx, w, lp)
		require.NoError(t, err)
		vs, err := Replay(ctx, r.testCase)
		require.NoError(t, err)
		require.Equal(t, r.verdicts, vs, "%s", r.testCase)
	}
	require.Len(t, seen, lifeSteps)
}
