package guest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/haltest"
)

// bareFlash is a chip with no optional ability: embedding the hal.Flash
// interface promotes only its four methods (no statistics, no bad blocks,
// no Close).
type bareFlash struct{ hal.Flash }

// TestTracerClaimsOnlyWhatTheChipHas: the traced view keeps statistics
// exactly when the chip does, so hal.StatsOf means the same through it.
func TestTracerClaimsOnlyWhatTheChipHas(t *testing.T) {
	chip := newChip(t, "w25q256jv", 1<<20)
	tests := []struct {
		name  string
		chip  hal.Flash
		stats bool
	}{
		{"simulator keeps statistics", chip, true},
		{"bare chip keeps none", bareFlash{chip}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, view := traceWrites(tt.chip, func(int) {})
			_, ok := hal.StatsOf(view)
			require.Equal(t, tt.stats, ok)
			_, ok = view.(hal.Stater)
			require.Equal(t, tt.stats, ok)
			if tt.stats {
				before, _ := hal.StatsOf(view)
				_, err := view.WriteAt([]byte{0}, 0)
				require.NoError(t, err)
				after, _ := hal.StatsOf(view)
				require.Equal(t, int64(1), after.Sub(before).Programs, "the chip's own counters")
			}
		})
	}
}

func TestTracerReportsFirstWriteOncePerArm(t *testing.T) {
	var reports []int
	tracer, view := traceWrites(newChip(t, "w25q256jv", 1<<20), func(round int) { reports = append(reports, round) })
	es := view.Geometry().EraseSize
	_, err := view.WriteAt([]byte{0}, 0)
	require.NoError(t, err)
	require.Empty(t, reports, "not armed")
	tracer.arm(1)
	_, err = view.ReadAt(make([]byte, 4), 0)
	require.NoError(t, err)
	require.Empty(t, reports, "reads are not writes")
	require.NoError(t, view.Erase(es, es))
	_, err = view.WriteAt([]byte{0}, es)
	require.NoError(t, err)
	tracer.arm(2)
	_, err = view.WriteAt([]byte{0}, 2*es)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, reports)
}

// TestTracerKeepsTheContract runs the HAL conformance checks on the traced
// views of a NOR and a NAND chip.
func TestTracerKeepsTheContract(t *testing.T) {
	for _, part := range []string{"w25q256jv", "mt29f2g01"} {
		t.Run(part, func(t *testing.T) {
			_, view := traceWrites(newChip(t, part, 4<<20), func(int) {})
			rep, err := haltest.Check(view)
			require.NoError(t, err, "%v", rep.Failed())
		})
	}
}
