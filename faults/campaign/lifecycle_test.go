package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
)

func TestLifecycleRecord(t *testing.T) {
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(context.Background(), sc, 1, engine.None)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, op := range l.ops {
		counts[stepNames[op.step]+"-"+op.op.Kind.String()]++
	}
	t.Logf("ops %d: %v points %d", len(l.ops), counts, len(l.lifePoints()))
	for _, f := range l.facts {
		t.Logf("step %s first %d acked %d damaged %v", stepNames[f.step], f.first, f.ackedAt, f.damaged)
	}
}

func TestLifecycleSample(t *testing.T) {
	rep, err := Run(context.Background(), Options{Scenario: LifecycleScenario, Workers: 2, Shard: Shard{0, 50}})
	require.NoError(t, err)
	t.Logf("points %d torn %d kinds %v checks %v violations %d wall %.1fs setup %.1fs", rep.FaultPoints, rep.TornVariants, rep.Kinds, rep.Checks, rep.ViolationsTotal, rep.WallSeconds, rep.SetupSeconds)
	for _, v := range rep.Violations {
		t.Logf("%s: %s: %s", v.Replay, v.Invariant, v.Detail)
	}
}
