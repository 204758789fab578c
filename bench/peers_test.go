package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

func peerChips(t *testing.T, size int64) (src, dst *sim.Flash) {
	t.Helper()
	p, err := sim.LookupPart("mt25ql256")
	require.NoError(t, err)
	clock := sim.NewClock(sim.NewClock(testEpoch).Now())
	src, err = sim.New(sim.Options{Part: p, Size: size, Clock: clock})
	require.NoError(t, err)
	dst, err = sim.New(sim.Options{Part: p, Size: size, Clock: clock})
	require.NoError(t, err)
	return src, dst
}

func TestPeers(t *testing.T) {
	const size = 256 << 10
	rng := rand.New(rand.NewPCG(3, 3^0xbe))
	old := make([]byte, size)
	for i := range old {
		old[i] = byte(rng.Uint32())
	}
	cur := bytes.Clone(old)
	cur[5000] ^= 0xFF  // block 1
	cur[70000] ^= 0x01 // block 17
	tests := []struct {
		name                   string
		fn                     func(src, dst hal.Flash, off, size int64) error
		erases, pages, readLen int64
	}{
		{"flashcp", FullCopy, size / 4096, size / 256, 2 * size},
		{"flashcp-p", BlockDiff, 2, 2 * 16, 2 * size},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := peerChips(t, size)
			src.Poke(0, cur)
			dst.Poke(0, old)
			s0, d0 := src.Stats(), dst.Stats()
			require.NoError(t, tt.fn(src, dst, 0, size))
			st := src.Stats().Sub(s0).Add(dst.Stats().Sub(d0))
			got := make([]byte, size)
			_, err := dst.ReadAt(got, 0)
			require.NoError(t, err)
			require.Equal(t, cur, got)
			require.Equal(t, tt.erases, st.Erases)
			require.Equal(t, tt.pages, st.PagesProgrammed)
			require.Equal(t, tt.readLen, st.BytesRead)
			// and syncing again changes nothing but reads
			before := dst.Stats()
			require.NoError(t, BlockDiff(src, dst, 0, size))
			require.Zero(t, dst.Stats().Sub(before).Erases)
		})
	}
}

func TestPeersRejectBadRanges(t *testing.T) {
	src, dst := peerChips(t, 64<<10)
	for _, fn := range []func(src, dst hal.Flash, off, size int64) error{FullCopy, BlockDiff} {
		require.ErrorIs(t, fn(src, dst, 100, 4096), hal.ErrUnaligned)
		require.ErrorIs(t, fn(src, dst, 0, 0), hal.ErrUnaligned)
		require.ErrorIs(t, fn(src, dst, 0, 128<<10), hal.ErrOutOfRange)
	}
	require.Zero(t, dst.Stats().Erases)
}
