package guest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

func nandChip(t *testing.T, size int64, bad ...int64) *sim.Flash {
	t.Helper()
	f := simtest.Chip(t, "mt29f2g01", sim.Options{Size: size})
	for _, b := range bad {
		require.NoError(t, f.MarkBad(b*f.Geometry().EraseSize))
	}
	return f
}

// A chip saved to an image and loaded onto a fresh chip with the same bad
// blocks reads the same; the pages the load programs are the ones that are
// not erased; the pages after them stay programmable.
func TestSaveLoadImage(t *testing.T) {
	const size = 8 << 17 // 8 blocks
	src := nandChip(t, size, 3)
	e, pg := src.Geometry().EraseSize, src.Geometry().PageSize
	page := func(v byte) []byte { return bytes.Repeat([]byte{v}, int(pg)) }
	for i, off := range []int64{0, pg, 2*e + 5*pg, 7*e + e - pg} {
		_, err := src.WriteAt(page(byte(i)), off)
		require.NoError(t, err)
	}
	path := filepath.Join(t.TempDir(), "img")
	require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte{0}, size), 0o644)) // stale bytes the save overwrites
	out, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	st, err := SaveImage(src, out, size)
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.Equal(t, ImageStats{Blocks: 8, BadBlocks: 1}, st)
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, bytes.Repeat([]byte{0xFF}, int(e)), img[3*e:4*e], "a bad block saves as erased")

	dst := nandChip(t, size, 3)
	in, err := os.Open(path)
	require.NoError(t, err)
	defer in.Close()
	st, err = LoadImage(dst, in, size)
	require.NoError(t, err)
	require.Equal(t, ImageStats{Blocks: 8, BadBlocks: 1, Pages: 4}, st)
	for blk := int64(0); blk < 8; blk++ {
		if blk == 3 {
			continue
		}
		a, b := make([]byte, e), make([]byte, e)
		_, err := src.ReadAt(a, blk*e)
		require.NoError(t, err)
		_, err = dst.ReadAt(b, blk*e)
		require.NoError(t, err)
		require.Equal(t, a, b, "block %d", blk)
	}
	_, err = dst.WriteAt(page(0x11), 2*e+6*pg)
	require.NoError(t, err, "the page after the last loaded one is programmable")

	// The chip must have the image's bad blocks: data where the chip's
	// block is bad cannot be loaded.
	other := nandChip(t, size, 2)
	_, err = LoadImage(other, in, size)
	require.ErrorContains(t, err, "bad on the chip but holds data")
	_, err = LoadImage(other, in, size-1)
	require.Error(t, err)
	_, err = SaveImage(other, out, 2*size)
	require.Error(t, err)
	ok, err := hal.IsBad(other, 2*e)
	require.NoError(t, err)
	require.True(t, ok)
}
