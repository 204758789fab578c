package faults

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestPartialSilentEraseOnNAND: an erase the chip was given and did only in
// part leaves a NAND block whose pages that read erased, from the last one
// that does not on, take a program again, as a writer that read the block
// back erased programs them; a page that does not read erased stays
// programmed (a program there breaks the NAND rule: erase first).
func TestPartialSilentEraseOnNAND(t *testing.T) {
	const page, block = 2048, 128 << 10
	for _, tc := range []struct {
		name      string
		zeroPages int  // pages of the block programmed to zeros before the erase
		pageOK    int  // a page a program must be taken at after the erase
		refused   bool // a program at page 0 is refused
	}{
		{name: "an erased block stays programmable", zeroPages: 0, pageOK: 0},
		{name: "programmed pages stay programmed", zeroPages: 2, pageOK: 2, refused: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := sim.NewClock(time.Unix(0, 0))
			chip := simtest.Chip(t, "mt29f2g01", sim.Options{Size: 1 << 20, Clock: clk, Name: "flash1", Seed: 5})
			require.NoError(t, chip.Erase(0, block))
			if tc.zeroPages > 0 {
				_, err := chip.WriteAt(make([]byte, tc.zeroPages*page), 0)
				require.NoError(t, err)
			}
			s, err := ParseSchedule("(seed 3) (on erase (silent-erase partial))")
			require.NoError(t, err)
			in := NewInjector(s, Options{Clock: clk})
			w := in.Wrap(chip, Backup)
			require.NoError(t, w.Erase(0, block), "a silent erase failure reports success")
			require.Len(t, in.Fired(), 1)
			require.NoError(t, in.Err())
			got := make([]byte, block)
			_, err = chip.ReadAt(got, 0)
			require.NoError(t, err)
			require.Equal(t, tc.zeroPages == 0, bytes.Equal(got, bytes.Repeat([]byte{0xff}, block)), "the block reads erased only if it was")
			_, err = chip.WriteAt(make([]byte, page), int64(tc.pageOK*page))
			require.NoError(t, err, "a page reading erased after the last one that does not takes a program")
			if tc.refused {
				_, err = chip.WriteAt(make([]byte, page), 0)
				require.Error(t, err, "a page left not erased is programmed")
			}
		})
	}
}
