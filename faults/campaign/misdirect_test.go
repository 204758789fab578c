package campaign

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestMisdirectedRecordIsReported: the damage point that writes the
// base journal's last record over an earlier record in the middle of a
// block (a misdirected write) exists in each scenario here, makes the
// reference decoder find a sequence gap in the middle of a block on the
// damaged base (the state only such a write makes: a flip or scribble
// leaves an invalid record, never a valid one of another sequence number),
// and passes every check, among them findings-reported (the engine's open
// names that gap at the same chip offset and sequence number). Run as the
// campaign runs it (runPoint).
func TestMisdirectedRecordIsReported(t *testing.T) {
	if testing.Short() {
		t.Skip("records the scenarios' rounds")
	}
	ctx := context.Background()
	for _, name := range []string{"small", "nand"} {
		t.Run(name, func(t *testing.T) {
			b, err := loadBench(ctx, name, 1, engine.None)
			require.NoError(t, err)
			var found []point
			for _, p := range b.points() {
				if p.kind != pointBackupDamage {
					continue
				}
				for _, r := range p.before.Rules {
					if _, ok := r.Do.(faults.Misdirect); ok {
						found = append(found, p)
					}
				}
			}
			require.Len(t, found, 1, "misdirected-write damage points")
			p := found[0]
			m := p.before.Rules[0].Do.(faults.Misdirect)

			w, err := newWorker(b)
			require.NoError(t, err)
			w.chips[0].Restore(b.base[0])
			w.chips[1].Restore(b.base[1])
			rec := make([]byte, m.Len)
			_, err = w.chips[1].ReadAt(rec, m.From)
			require.NoError(t, err)
			w.chips[1].Poke(m.To, rec)
			bk, err := decodeChip(w.chips[1], w.chips[0], 1, b.layout.StoreOff, b.layout.StoreSize)
			require.NoError(t, err)
			var mid []reference.Finding
			for _, f := range bk.Findings {
				if f.Kind == reference.SequenceGap && f.Off%b.eraseSize != 0 {
					mid = append(mid, f)
				}
			}
			require.Len(t, mid, 1, "sequence gaps in the middle of a block on the damaged base; findings %v", bk.Findings)
			require.Equal(t, m.To, mid[0].Off)

			r, err := w.runPoint(ctx, p, 1)
			require.NoError(t, err)
			require.Len(t, r.results, 1)
			for _, v := range r.results[0].verdicts {
				require.True(t, v.OK, "%s: %s", r.results[0].testCase, v)
			}
		})
	}
}
