package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestFadeOpenPoint: each scenario's exhaustive points end with the fade
// at the recovery's open — the fault-free round, then the backup's last
// journal page of the round faded at the recovery's operation 0 — and the
// real engine holds every invariant there (an engine that read the
// journal twice at Open rolled the committed generation back: durable).
// Run as a point, it gives the verdicts of its replay line.
func TestFadeOpenPoint(t *testing.T) {
	ctx := context.Background()
	for _, sc := range []string{"small", "standard"} {
		b, err := loadBench(ctx, sc, 1, engine.None)
		require.NoError(t, err)
		ps := b.points()
		p := ps[len(ps)-1]
		require.Equal(t, pointFadeOpen, p.kind, "scenario %s: the last point", sc)
		require.Empty(t, p.round.Rules)
		require.Len(t, p.recovery.Rules, 1)
		fade, ok := p.recovery.Rules[0].Do.(faults.Fade)
		require.True(t, ok)
		op := b.steps[p.opIndex].op
		require.Equal(t, faults.Fade{Role: faults.Backup, Lo: op.Off, Hi: op.Off + op.Len}, fade)
		for _, st := range b.steps[p.opIndex+1:] {
			require.False(t, st.op.Role == faults.Backup && st.op.Kind == faults.Program && !b.inDataArea(st.op.Off),
				"scenario %s: %v is a later journal program", sc, st.op)
		}

		w, err := newWorker(b)
		require.NoError(t, err)
		out, err := w.runPoint(ctx, p, 1)
		require.NoError(t, err)
		require.Len(t, out.results, 1)
		r := out.results[0]
		for _, v := range r.verdicts {
			require.True(t, v.OK, "scenario %s: %s\n%s", sc, r.testCase, v)
		}
		vs, err := Replay(ctx, r.testCase)
		require.NoError(t, err)
		require.Equal(t, r.verdicts, vs, "case %s", r.testCase)
	}
}
