package engine

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestEveryCutFormatIsResumable cuts the power at every program and erase
// of a format of two blank chips. Each cut leaves the chips either blank
// on both (nothing written: a start refuses them), or saying a format was
// cut (FormatWasCut: a start formats them again), or holding a store on
// both that a round syncs. Never a store beside a blank range: that is
// what a replaced chip looks like (cmcsync reseed), and a start would
// neither finish the format nor sync.
func TestEveryCutFormatIsResumable(t *testing.T) {
	clock := simtest.NewClock()
	a, b := simtest.Pair(t, "mx66l1g45g", sim.Options{Size: 8 << 20, Clock: clock, Seed: 1})
	l, err := DefaultLayout(a.Geometry(), 1<<20)
	require.NoError(t, err)
	blankA, blankB := a.Snapshot(), b.Snapshot()
	opts := Options{Clock: clock, Layout: l, Config: DefaultConfig()}

	var writes []int64 // the trace indices of the format's programs and erases
	var i int64
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Clock: clock, Trace: func(op faults.Op) {
		if op.Kind == faults.Program || op.Kind == faults.Erase {
			writes = append(writes, i)
		}
		i++
	}})
	require.NoError(t, Format(in.Wrap(a, faults.Primary), in.Wrap(b, faults.Backup), opts))

	blank, resumed, opened := 0, 0, 0
	for k, at := range writes {
		a.Restore(blankA)
		b.Restore(blankB)
		line := fmt.Sprintf("(on (at %d) cut)", at)
		s, err := faults.ParseSchedule(line)
		require.NoError(t, err)
		in := faults.NewInjector(s, faults.Options{Clock: clock})
		require.Error(t, Format(in.Wrap(a, faults.Primary), in.Wrap(b, faults.Backup), opts), "write %d: %s", k+1, line)
		if FormatWasCut(a, b, l) {
			resumed++
			continue
		}
		e, err := Open(t.Context(), a, b, opts)
		if err != nil {
			require.Zero(t, k, "write %d (%s): not a cut format, and the pair does not open: %v", k+1, line, err)
			blank++
			continue
		}
		require.Empty(t, e.Status().LastError, "write %d (%s): not a cut format, and the pair opens with an error", k+1, line)
		_, err = e.Round(t.Context())
		require.NoError(t, err, "write %d (%s): not a cut format, and a round fails", k+1, line)
		e.Release()
		opened++
	}
	t.Logf("%d cuts: %d left both chips blank, %d a cut format, %d two stores", len(writes), blank, resumed, opened)
	require.Equal(t, 1, blank, "only a cut at the first write leaves nothing written")
}
