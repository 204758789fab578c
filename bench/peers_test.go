package bench

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

func peerChips(t *testing.T, size int64, em sim.EraseModel) (src, dst *sim.Flash) {
	t.Helper()
	o := sim.Options{Size: size, Clock: sim.NewClock(sim.NewClock(testEpoch).Now()), EraseModel: em}
	return simtest.Chip(t, "mt25ql256", o), simtest.Chip(t, "mt25ql256", o)
}

// TestPeers runs each peer on three changes: a byte whose bits must go
// from 0 to 1 (offset 5000), a bit cleared (70000), and a page of data
// appended into erased space (page 3 of the 4 KiB unit at 80 KiB). flashcp
// -p erases and rewrites every unit that differs; flashrom erases only the
// first and programs only the changed pages.
func TestPeers(t *testing.T) {
	const size = 256 << 10
	rng := rand.New(rand.NewPCG(3, 3^0xbe))
	old := make([]byte, size)
	for i := range old {
		old[i] = byte(rng.Uint32() | 1) // no erased page
	}
	appendAt := int64(80<<10 + 3*256)
	copy(old[appendAt:appendAt+256], bytes.Repeat([]byte{0xFF}, 256))
	old[5000], old[70000] = 0x0F, 0x81
	cur := bytes.Clone(old)
	cur[5000] = 0xF0  // 0→1 bits: an erase
	cur[70000] = 0x80 // a bit cleared
	copy(cur[appendAt:appendAt+256], bytes.Repeat([]byte{0x42}, 256))
	tests := []struct {
		name                   string
		em                     sim.EraseModel
		fn                     func(src, dst hal.Flash, off, size int64) error
		erases, pages, readLen int64
	}{
		{"flashcp/4k", sim.Erase4K, FullCopy, size / 4096, size / 256, 2 * size},
		// flashcp -p reads each rewritten block back; flashrom the range.
		{"flashcp-p/4k", sim.Erase4K, BlockDiff, 3, 3 * 16, 2*size + 3*4096},
		// flashrom also reads each block it erased back (one here).
		{"flashrom/4k", sim.Erase4K, Flashrom, 1, 16 + 1 + 1, 3*size + 4096},
		{"flashcp/64k", sim.Erase64K, FullCopy, size / (64 << 10), size / 256, 2 * size},
		{"flashcp-p/64k", sim.Erase64K, BlockDiff, 2, 2 * 256, 2*size + 2*(64<<10)},
		// 64 KiB unit 0: erased, all 256 pages back; unit 1: two pages.
		{"flashrom/64k", sim.Erase64K, Flashrom, 1, 256 + 2, 3*size + 64<<10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := peerChips(t, size, tt.em)
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
			// and syncing again changes nothing, and reads nothing back
			for _, again := range []func(src, dst hal.Flash, off, size int64) error{BlockDiff, Flashrom} {
				before := dst.Stats()
				require.NoError(t, again(src, dst, 0, size))
				require.Zero(t, dst.Stats().Sub(before).Erases)
				require.Zero(t, dst.Stats().Sub(before).PagesProgrammed)
				require.Equal(t, int64(size), dst.Stats().Sub(before).BytesRead)
			}
		})
	}
}

func TestPeersRejectBadRanges(t *testing.T) {
	src, dst := peerChips(t, 64<<10, sim.Erase4K)
	for _, fn := range []func(src, dst hal.Flash, off, size int64) error{FullCopy, BlockDiff, Flashrom} {
		require.ErrorIs(t, fn(src, dst, 100, 4096), hal.ErrUnaligned)
		require.ErrorIs(t, fn(src, dst, 0, 0), hal.ErrUnaligned)
		require.ErrorIs(t, fn(src, dst, 0, 128<<10), hal.ErrOutOfRange)
	}
	require.Zero(t, dst.Stats().Erases)
}
