package sim_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// A power cut during a multi-unit erase behaves as under Linux, which
// erases one erase unit per command (sim.EraseModel): with a harness that
// issues each unit of the geometry as its own operation (faults,
// SplitPages), the units before the cut are erased, the unit in progress is
// torn and the rest are untouched, and only the units erased are charged.
func TestTornMultiUnitErase(t *testing.T) {
	const off, span = 64 << 10, 64 << 10
	for _, tc := range []struct {
		model     sim.EraseModel
		unit      int64
		ops       int   // erase operations the 64 KiB request becomes
		tornAt    int64 // the operation torn (index from 0)
		untouched int64 // bytes after the torn unit left as they were
	}{
		{sim.Erase4K, 4 << 10, 16, 5, span - 6*(4<<10)},
		{sim.Erase64K, 64 << 10, 1, 0, 0},
	} {
		t.Run(tc.model.String(), func(t *testing.T) {
			chip := simtest.Chip(t, "w25q256jv", sim.Options{Size: 1 << 20, EraseModel: tc.model, Seed: 3})
			require.Equal(t, tc.unit, chip.Geometry().EraseSize)
			chip.Poke(off, make([]byte, span)) // all zero: every bit must be set by the erase
			var erases []faults.Op
			in := faults.NewInjector(faults.TornAt(tc.tornAt, faults.TornBits, false, 9),
				faults.Options{SplitPages: true, Trace: func(op faults.Op) { erases = append(erases, op) }})
			w := in.Wrap(chip, faults.Backup)
			require.ErrorIs(t, w.Erase(off, span), hal.ErrPowerLoss)
			require.NoError(t, in.Err())
			require.Len(t, erases, int(tc.tornAt)+1, "operations issued up to the cut")
			for i, op := range erases {
				require.Equal(t, faults.Erase, op.Kind)
				require.Equal(t, int64(off)+int64(i)*tc.unit, op.Off)
				require.Equal(t, tc.unit, op.Len, "one erase unit per operation")
			}

			got := make([]byte, span)
			_, err := chip.ReadAt(got, off)
			require.NoError(t, err)
			tornLo := tc.tornAt * tc.unit
			require.True(t, hal.IsErased(got[:tornLo]), "units before the cut are erased")
			torn := got[tornLo : tornLo+tc.unit]
			require.False(t, hal.IsErased(torn), "the unit in progress is not fully erased")
			require.False(t, bytes.Equal(torn, make([]byte, tc.unit)), "the unit in progress is partly erased")
			require.Equal(t, make([]byte, tc.untouched), got[span-tc.untouched:], "units after it are untouched")
			require.Equal(t, tc.tornAt, chip.Stats().Erases, "only the completed units were erased")

			// A request that is not cut still issues one operation per unit.
			erases = nil
			in.PowerOn()
			require.NoError(t, w.Erase(off, span))
			require.Len(t, erases, tc.ops)
		})
	}
}

// Grouping a 64 KiB span into one operation (faults.Options.BlockEraseSize)
// is not what Linux does under the 4k model: the cut can no longer fall
// between sector erases, and a torn erase disturbs the whole span, the
// sectors after the one in progress too.
func TestTornGroupedEraseIsNotLinux(t *testing.T) {
	chip := simtest.Chip(t, "w25q256jv", sim.Options{Size: 1 << 20, Seed: 3})
	const off, span = 64 << 10, 64 << 10
	chip.Poke(off, make([]byte, span))
	var ops []faults.Op
	in := faults.NewInjector(faults.TornAt(0, faults.TornBits, false, 9),
		faults.Options{SplitPages: true, BlockEraseSize: 64 << 10, Trace: func(op faults.Op) { ops = append(ops, op) }})
	require.ErrorIs(t, in.Wrap(chip, faults.Backup).Erase(off, span), hal.ErrPowerLoss)
	require.Len(t, ops, 1)
	require.Equal(t, int64(span), ops[0].Len, "one operation for 16 sector erases")
	last := make([]byte, 4<<10)
	_, err := chip.ReadAt(last, off+span-int64(len(last)))
	require.NoError(t, err)
	require.NotEqual(t, make([]byte, len(last)), last, "the last sector is disturbed although Linux would not have reached it")
}
