package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestEraseJournalAheadStopsAtTheAreasEnd: asked for more blocks than the
// area has left (and the area under half full, so no compaction),
// EraseJournalAhead erases up to the area's last block and is then done,
// and asked again it erases nothing: no erase reaches past the journal
// area in charge.
func TestEraseJournalAheadStopsAtTheAreasEnd(t *testing.T) {
	f, _ := newStore(t)
	var erases [][2]int64
	in := faults.NewInjector(faults.Schedule{}, faults.Options{Trace: func(op faults.Op) {
		if op.Kind == faults.Erase {
			erases = append(erases, [2]int64{op.Off, op.Len})
		}
	}})
	s := openTest(t, in.Wrap(f, faults.Backup), Options{})
	runRound(t, s, 1, payloads{1: randomBytes(1, 3000)})
	nb := int64(s.layout.JournalBlocks)
	lo, hi := s.areaOff(s.area), s.areaOff(s.area)+nb*s.eraseSize
	next := s.tailBlock
	if s.tailReady {
		next++
	}
	require.LessOrEqual(t, next, nb/2, "no compaction")
	erases = nil
	var st EraseAheadStep
	for steps := 0; !st.Done; steps++ {
		require.Less(t, steps, int(nb), "never done")
		var err error
		st, err = s.EraseJournalAhead(int(nb))
		require.NoError(t, err)
	}
	require.Equal(t, int(nb-next), st.Ready, "every block from the tail's next to the area's end")
	require.NotEmpty(t, erases)
	for _, er := range erases {
		require.True(t, er[0] >= lo && er[0]+er[1] <= hi, "erase %#x+%#x outside the journal area [%#x, %#x)", er[0], er[1], lo, hi)
	}
	require.Equal(t, hi, erases[len(erases)-1][0]+erases[len(erases)-1][1], "the last erase ends at the area's end")

	// Asked again: nothing left in the area, nothing erased.
	erases = nil
	st, err := s.EraseJournalAhead(int(nb))
	require.NoError(t, err)
	require.Equal(t, EraseAheadStep{Ready: int(nb - next), Done: true}, st)
	require.Empty(t, erases)
}
