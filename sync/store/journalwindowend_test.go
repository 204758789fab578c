package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

// TestJournalErasesStayInTheirArea: the tail entering a journal block
// erases a whole erase window only when the window lies in the area; the
// area's last window, which the area's end cuts short, is erased block
// by block. Otherwise the window erase runs into the next area or, from
// journal area 1, into the first data blocks, which may hold committed
// chunks. Rounds fill both areas (three compactions) on a store whose
// areas do not end on a window boundary (they start at store block 2);
// every erase that starts in a journal area ends in it.
func TestJournalErasesStayInTheirArea(t *testing.T) {
	chip, s0 := newStore(t)
	k := int64(s0.layout.JournalBlocks)
	e := s0.eraseSize
	require.NotZero(t, (s0.areaOff(0)+k*e)%eraseWindow, "the test needs an area end inside a window")
	var erases []faults.Op
	in := faults.NewInjector(faults.Schedule{}, faults.Options{BlockEraseSize: eraseWindow, Trace: func(op faults.Op) {
		if op.Kind == faults.Erase {
			erases = append(erases, op)
		}
	}})
	s := openTest(t, in.Wrap(chip, faults.Backup), Options{})
	ps := payloads{1: randomBytes(1, 200*4096)}
	epoch := s.epoch
	for gen := s.State().Generation + 1; s.epoch < epoch+3; gen++ {
		require.Less(t, gen, uint64(5000))
		for i := range 3 {
			ps[1][int(gen*7+uint64(i)*61)%200*4096+int(gen%4000)] ^= 0xA5
		}
		runRound(t, s, gen, ps)
	}
	inArea := 0
	for _, op := range erases {
		for a := range 2 {
			lo, hi := s.areaOff(a), s.areaOff(a)+k*e
			if op.Off >= lo && op.Off < hi {
				inArea++
				require.LessOrEqual(t, op.Off+op.Len, hi, "erase %#x+%#x starts in journal area %d [%#x, %#x) and runs past it", op.Off, op.Len, a, lo, hi)
			}
		}
	}
	require.Greater(t, inArea, int(2*k), "the rounds went through both areas")
	checkPayloads(t, openTest(t, chip, Options{ReadOnly: true}), ps)
}
