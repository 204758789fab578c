package engine

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// TestDefaultLayoutRegionFitsTheStore: without a region size the default
// layout takes a quarter of the chip (at most 8 MiB) when the store in the
// rest holds it, else the largest whole-block region the store can hold
// (a 4 MiB chip of 4 KiB blocks was refused by 8 KiB); a chip whose store
// cannot hold even a one-block region is still refused, and a size given
// is never shrunk.
func TestDefaultLayoutRegionFitsTheStore(t *testing.T) {
	part, err := sim.LookupPart("mx66l1g45g")
	require.NoError(t, err)
	for _, tc := range []struct {
		em      sim.EraseModel
		size    int64
		quarter bool // the quarter (at most 8 MiB) fits
		fits    bool // some region fits
	}{
		{sim.Erase4K, 2 << 20, false, true},
		{sim.Erase4K, 4 << 20, false, true},
		{sim.Erase4K, 8 << 20, true, true},
		{sim.Erase4K, 16 << 20, true, true},
		{sim.Erase4K, 128 << 20, true, true},
		{sim.Erase64K, 16 << 20, false, true},
		{sim.Erase64K, 128 << 20, true, true},
		{sim.Erase64K, 4 << 20, false, false},
	} {
		t.Run(fmt.Sprintf("%v %dMiB", tc.em, tc.size>>20), func(t *testing.T) {
			g, err := part.GeometryFor(tc.em)
			require.NoError(t, err)
			g.Size = tc.size
			quarter := min(g.Size/4, 8<<20) / g.EraseSize * g.EraseSize
			l, err := DefaultLayout(g, 0)
			if !tc.fits {
				require.ErrorIs(t, err, ErrLayout)
				return
			}
			require.NoError(t, err)
			require.NoError(t, l.Check(g))
			require.Zero(t, l.InfoSize%g.EraseSize)
			if tc.quarter {
				require.Equal(t, quarter, l.InfoSize)
				return
			}
			require.Less(t, l.InfoSize, quarter)
			bigger := l
			bigger.InfoSize += g.EraseSize
			bigger.StoreOff += g.EraseSize
			bigger.StoreSize -= g.EraseSize
			require.ErrorIs(t, bigger.Check(g), ErrLayout, "the largest region that fits")
			_, err = DefaultLayout(g, quarter)
			require.ErrorIs(t, err, ErrLayout, "a size given is not shrunk")
		})
	}
}
