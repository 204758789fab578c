package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestLifecycleRecordsTheLaterSteps: the recorded life runs the steps past
// the restart (their own checks are in the recording: a wrong engine fails
// it), each writing to flash, with the facts the oracle judges by.
func TestLifecycleRecordsTheLaterSteps(t *testing.T) {
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(context.Background(), sc, 1, engine.None)
	require.NoError(t, err)
	ops := map[int]int{}
	for _, op := range l.ops {
		if op.op.Kind != faults.Read {
			ops[op.step]++
		}
	}
	for s := stepTableMiss; s < lifeSteps; s++ {
		t.Logf("step %s: %d writes from operation %d", stepNames[s], ops[s], l.facts[s].first)
	}
	t.Logf("%d operations", len(l.ops))
	require.Len(t, l.facts[stepTableMiss].forged, 1)
	require.Len(t, l.facts[stepGroups].sets, 4)
	for _, at := range l.facts[stepGroups].setAt {
		require.GreaterOrEqual(t, at[1], at[0])
	}
}
