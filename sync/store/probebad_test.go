package store

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestProbeSkipsFactoryBadBlocks: on NAND a range whose only non-erased
// blocks are marked bad (their reads fail) probes Blank, whichever block
// of the range past its two superblock blocks is the bad one (those two
// must be good: Probe reads them first); a good block holding data still probes
// Foreign.
func TestProbeSkipsFactoryBadBlocks(t *testing.T) {
	const size = 32 << 20
	for _, bad := range []int64{2, 5, 62} {
		f := simtest.Chip(t, "mt29f2g01", sim.Options{Size: size, Name: "nand"})
		e := f.Geometry().EraseSize
		off, n := 4*e, 64*e
		f.Poke(off+bad*e+100, []byte("factory marker"))
		require.NoError(t, f.MarkBad(off+bad*e))
		res, err := Probe(f, off, n)
		require.NoError(t, err, "bad block %d", bad)
		require.Equal(t, Blank, res.State, "bad block %d: %s", bad, res.Detail)

		f.Poke(off+(bad+1)*e, []byte("user data"))
		res, err = Probe(f, off, n)
		require.NoError(t, err)
		require.Equal(t, Foreign, res.State, "bad block %d", bad)
	}
}
