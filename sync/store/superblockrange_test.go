package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpenReadsTheSuperblockCopiesInItsRangeOnly: Open reads superblock
// copy i only when the range holds erase block i whole. A range of exactly
// two blocks whose copy 0 is erased takes copy 1 (and refuses the range
// as too small for the store the copy describes, not as unformatted); a
// one-block range at the chip's end holding a good copy 0 does not read
// past the chip for copy 1 and is refused for its size the same way.
func TestOpenReadsTheSuperblockCopiesInItsRangeOnly(t *testing.T) {
	f, _ := newStore(t)
	e := f.Geometry().EraseSize
	end := f.Geometry().Size
	copy0 := make([]byte, e)
	_, err := f.ReadAt(copy0, testStoreOff)
	require.NoError(t, err)
	base := f.Snapshot()
	for _, tc := range []struct {
		name      string
		off, size int64
		prepare   func()
		want      string
	}{
		{"two blocks, copy 0 erased", testStoreOff, 2 * e, func() {
			require.NoError(t, f.Erase(testStoreOff, e))
		}, "the range is 8KiB of 4KiB blocks"},
		{"one block at the chip's end", end - e, e, func() {
			require.NoError(t, f.Erase(end-e, e))
			f.Poke(end-e, copy0)
		}, "the range is 4KiB of 4KiB blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Restore(base)
			tc.prepare()
			_, err := Open(f, tc.off, tc.size, Options{ReadOnly: true})
			require.ErrorIs(t, err, ErrCorrupt)
			require.NotErrorIs(t, err, ErrNotFormatted)
			require.ErrorContains(t, err, "superblock describes a 3MiB store with 4KiB erase blocks, "+tc.want)
		})
	}
}

// TestOpenOfAOneBlockRangeWithoutASuperblock: a range of one erase block
// whose block holds no valid superblock is refused as unformatted with
// both copies named, copy 1 as outside the range (it panicked on the
// unread copy once), and an erased one as a blank range's copy 0.
func TestOpenOfAOneBlockRangeWithoutASuperblock(t *testing.T) {
	f, _ := newStore(t)
	e := f.Geometry().EraseSize
	end := f.Geometry().Size
	base := f.Snapshot()
	for _, tc := range []struct {
		name    string
		off     int64
		prepare func()
		want    string
	}{
		{"erased block at the chip's end", end - e, func() { require.NoError(t, f.Erase(end-e, e)) },
			"(copy 0: erased; copy 1: not in the range)"},
		{"other data in the block", end - e, func() {
			require.NoError(t, f.Erase(end-e, e))
			f.Poke(end-e, []byte("not a store at all"))
		}, "copy 1: not in the range)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Restore(base)
			tc.prepare()
			var err error
			require.NotPanics(t, func() { _, err = Open(f, tc.off, e, Options{ReadOnly: true}) })
			require.ErrorIs(t, err, ErrNotFormatted)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
