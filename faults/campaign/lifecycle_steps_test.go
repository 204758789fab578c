package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
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

// TestLifecycleJudgeSeesWrongStates: the judge's checks of the later steps
// fail on a wrong state made by hand at a clean cut inside the step: a
// committed chunk of the backup damaged behind the engine (durable: the
// idle erase must never erase committed data), and a second primary chunk
// changed behind the change table that the oracle did not make (the scrub
// then counts a fault more than the injector made: table-miss-found).
func TestLifecycleJudgeSeesWrongStates(t *testing.T) {
	ctx := context.Background()
	sc, err := LookupScenario(LifecycleScenario)
	require.NoError(t, err)
	l, err := recordLifecycle(ctx, sc, 1, engine.None)
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		step      int
		wrong     func(t *testing.T, w *lifeWorker)
		invariant string
	}{
		{"committed chunk damaged", stepIdleErase, func(t *testing.T, w *lifeWorker) {
			nb, err := newestBackup(w.chips, l.layout)
			require.NoError(t, err)
			ty := nb.bk.Committed.Types[0]
			off := nb.bk.BlockOffset(ty.Chunks[0].Block)
			b := make([]byte, 1)
			_, err = w.chips[nb.chip].ReadAt(b, off)
			require.NoError(t, err)
			w.chips[nb.chip].Poke(off, []byte{b[0] ^ 0x01})
		}, Durable},
		{"a second chunk changed behind the table", stepTableMiss, func(t *testing.T, w *lifeWorker) {
			// Chunk 0 of another type, forged as tablemiss.go does.
			region, err := info.OpenRegion(w.chips[0], l.layout.InfoOff, l.layout.InfoSize)
			require.NoError(t, err)
			for _, ty := range info.All() {
				rec, err := region.Read(ty)
				if ty == info.Type(l.facts[stepTableMiss].forged[0].Type) || ty == l.facts[stepTableMiss].stale || err != nil || len(rec.Payload) < 300 {
					continue
				}
				off, _ := region.Extent(ty)
				blk := make([]byte, region.ChangeUnit())
				_, err = w.chips[0].ReadAt(blk, off)
				require.NoError(t, err)
				require.NoError(t, forgeSameChecks(blk, 200))
				w.chips[0].Poke(off, blk)
				_, err = region.Read(ty)
				require.NoError(t, err, "the forged record reads intact")
				return
			}
			t.Fatal("no type to forge")
		}, TableMissFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := l.facts[tc.step]
			// A clean cut at the step's first write.
			op := int(f.first)
			for l.ops[op].op.Kind == faults.Read {
				op++
			}
			w, err := l.newWorker()
			require.NoError(t, err)
			lop := l.ops[op]
			w.chips[0].Restore(lop.snapshots[0])
			w.chips[1].Restore(lop.snapshots[1])
			w.clock.set(lop.time)
			j := &lifeJudge{sc: l.scenario, seed: l.seed, mutant: l.mutant, layout: l.layout, chips: w.chips, clock: w.clock, facts: f, cut: int64(op)}
			ok := verdictOf(j.judge(ctx), tc.invariant)
			require.True(t, ok.OK, "the unchanged state passes: %s", ok.Saw)
			require.NotEqual(t, "missing", ok.Saw)
			w.chips[0].Restore(lop.snapshots[0])
			w.chips[1].Restore(lop.snapshots[1])
			w.clock.set(lop.time)
			tc.wrong(t, w)
			got := verdictOf(j.judge(ctx), tc.invariant)
			require.False(t, got.OK, "%s passes on the wrong state: %s", tc.invariant, got.Saw)
			t.Log(got.Saw)
		})
	}
}
