package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEraseAheadTakesTheOnlyWindow: on a store whose data area is exactly
// one 64 KiB erase window, all of it free and dirty, the erase-ahead's
// next range is that window, erased in one call — not its blocks one by
// one (the window search must run when the data area is as large as a
// window, not only when it is larger).
func TestEraseAheadTakesTheOnlyWindow(t *testing.T) {
	f := newChip(t)
	const e = 4096
	opts := FormatOptions{ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 6,
		Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}
	var size int64
	var sb Superblock
	for size = 16 * e; ; size += e {
		var err error
		if sb, err = PlanLayout(f.Geometry(), size, opts); err == nil {
			break
		}
		require.Less(t, size, int64(2<<20), "no layout of 16 data blocks")
	}
	require.Equal(t, uint32(16), sb.DataBlocks, "the smallest store holds 2*6+4 data blocks")
	off := int64(eraseWindow) - int64(sb.DataFirst)*e%eraseWindow // the data area starts a window
	require.NoError(t, Format(f, off, size, opts))
	s, err := Open(f, off, size, Options{})
	require.NoError(t, err)
	require.Equal(t, uint32(16), s.layout.DataBlocks)
	require.True(t, s.windowStart(0))

	ps := payloads{1: randomBytes(1, 3*4096), 2: randomBytes(2, 3*4096)}
	runRound(t, s, 1, ps)
	ps[1], ps[2] = randomBytes(3, 3*4096), randomBytes(4, 3*4096)
	runRound(t, s, 2, ps) // the first generation's 6 blocks are dirty now
	ps[1], ps[2] = []byte{}, []byte{}
	runRound(t, s, 3, ps) // and the second's: nothing live
	lo, n, ok := s.nextDirtyRange()
	require.True(t, ok)
	require.Equal(t, [2]uint32{0, 16}, [2]uint32{lo, n}, "the whole window, at data block 0")
}
