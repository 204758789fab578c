package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPlanLayoutBounds checks PlanLayout's argument rules and its layout
// arithmetic: the superblock it plans passes check, places the journals
// and the data area back to back, and the smallest store that fits has
// exactly the data blocks the chunks need.
func TestPlanLayoutBounds(t *testing.T) {
	g := newChip(t).Geometry()
	e := g.EraseSize
	fo := FormatOptions{ChipID: 1, PairID: 7, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks}
	sb, err := PlanLayout(g, testStoreSize, fo)
	require.NoError(t, err)
	require.NoError(t, sb.check())
	k := journalBlocks(testMaxChunks, e, testStoreSize/e)
	require.Equal(t, Superblock{Version: FormatVersion, ChipID: 1, Kind: uint8(g.Kind), PairID: 7, StoreSize: testStoreSize,
		EraseSize: e, SlotSize: g.PageSize, JournalBlocks: uint32(k), Journal: [2]uint32{2, uint32(2 + k)},
		DataFirst: uint32(2 + 2*k), DataBlocks: uint32(testStoreSize/e - 2 - 2*k), MaxChunks: testMaxChunks,
		Formatted: time.Unix(1000, 0).UTC()}, sb)

	// The smallest store for 250 chunks: its data area is exactly 2*250+4
	// blocks; one block less is too small, with the numbers in the message.
	min := int64(0)
	for blocks := int64(1); blocks < 2000; blocks++ {
		if _, err := PlanLayout(g, blocks*e, fo); err == nil {
			min = blocks
			break
		}
	}
	require.NotZero(t, min)
	sb, err = PlanLayout(g, min*e, fo)
	require.NoError(t, err)
	require.Equal(t, uint32(2*testMaxChunks+4), sb.DataBlocks)
	require.NoError(t, sb.check())
	kSmall := journalBlocks(testMaxChunks, e, min-1)
	_, err = PlanLayout(g, (min-1)*e, fo)
	require.EqualError(t, err, fmt.Sprintf("store of %dKiB is too small: %d data blocks, need 504 for 250 chunks (make the store at least %dKiB, or the information region smaller)",
		(min-1)*4, min-1-2-2*kSmall, (2+2*kSmall+504)*4))

	tests := []struct {
		name string
		edit func(o *FormatOptions)
		size int64
		want string
	}{
		{"chip 0", func(o *FormatOptions) { o.ChipID = 0 }, testStoreSize, ""},
		{"chip 2", func(o *FormatOptions) { o.ChipID = 2 }, testStoreSize, "chip id 2 (want 0 or 1)"},
		{"one chunk", func(o *FormatOptions) { o.MaxChunks = 1 }, testStoreSize, ""},
		{"no chunks", func(o *FormatOptions) { o.MaxChunks = 0 }, testStoreSize, "max chunks 0 out of range"},
		{"negative chunks", func(o *FormatOptions) { o.MaxChunks = -1 }, testStoreSize, "max chunks -1 out of range"},
		{"too many chunks", func(o *FormatOptions) { o.MaxChunks = 1<<24 + 1 }, testStoreSize, "max chunks 16777217 out of range"},
		{"most chunks", func(o *FormatOptions) { o.MaxChunks = 1 << 24 }, testStoreSize, "store of 3MiB is too small"},
		{"size 0", func(o *FormatOptions) {}, 0, "store size 0 is not a positive multiple of the erase size 4096"},
		{"size negative", func(o *FormatOptions) {}, -e, "store size -4096 is not a positive multiple of the erase size 4096"},
		{"size unaligned", func(o *FormatOptions) {}, testStoreSize + 1, "store size 3145729 is not a positive multiple of the erase size 4096"},
	}
	for _, tc := range tests {
		o := fo
		tc.edit(&o)
		sb, err := PlanLayout(g, tc.size, o)
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			require.NoError(t, sb.check(), tc.name)
			continue
		}
		require.Error(t, err, tc.name)
		require.Equal(t, tc.want, err.Error()[:len(tc.want)], tc.name)
	}
	small := g
	small.EraseSize = minEraseSize
	_, err = PlanLayout(small, testStoreSize, fo)
	require.NoError(t, err, "the smallest erase size the format supports")
	small.EraseSize = minEraseSize / 2
	_, err = PlanLayout(small, testStoreSize, fo)
	require.EqualError(t, err, "erase size 512 is below the store's minimum of 1024")
}

// TestJournalBlocksGrowsWithTheStore checks journalBlocks' terms: 64
// blocks of round records until the store passes 2048 blocks, then 1/32
// of it.
func TestJournalBlocksGrowsWithTheStore(t *testing.T) {
	base := journalBlocks(250, 4096, 100)
	require.Equal(t, base, journalBlocks(250, 4096, 2048))
	require.Equal(t, base+1, journalBlocks(250, 4096, 2048+32))
	require.Equal(t, base, journalBlocks(250, 4096, 2048+31))
	require.Less(t, journalBlocks(250, 4096, 100), journalBlocks(5000, 4096, 100))
}

// TestCheckMeta checks a type's metadata rules against the layout's
// bounds: the phase inside an erase block, the chunk count within the data
// area and equal to ChunkCount.
func TestCheckMeta(t *testing.T) {
	sb := Superblock{EraseSize: 4096, DataBlocks: 10}
	tests := []struct {
		phase uint32
		size  int64
		n     int
		want  string
	}{
		{0, 4096, 1, ""},
		{0, 4097, 2, ""},
		{4095, 1, 1, ""},
		{4095, 2, 2, ""},
		{4096, 1, 1, "type 3: phase 4096 is not inside an erase block of 4096 bytes"},
		{0, 0, 0, ""},
		{0, 10 * 4096, 10, ""},
		{0, 10*4096 + 1, 11, "type 3: 11 chunks, the data area has 10 blocks"},
		{0, 4096, 2, "type 3: 2 chunks, a payload of 4096 bytes at phase 0 has 1"},
		{0, 4097, 1, "type 3: 1 chunks, a payload of 4097 bytes at phase 0 has 2"},
		{100, 3996, 1, ""},
		{100, 3997, 1, "type 3: 1 chunks, a payload of 3997 bytes at phase 100 has 2"},
	}
	for _, tc := range tests {
		ts := TypeState{Type: 3, Phase: tc.phase, Size: tc.size}
		err := sb.checkMeta(&ts, tc.n)
		if tc.want == "" {
			require.NoError(t, err, "%+v", tc)
		} else {
			require.EqualError(t, err, tc.want, "%+v", tc)
		}
	}
}

// TestChunkCountAndBounds checks the chunk arithmetic at the block edges:
// the bounds of consecutive chunks tile the payload exactly.
func TestChunkCountAndBounds(t *testing.T) {
	tests := []struct {
		size, phase int64
		want        [][2]int64
	}{
		{0, 0, nil},
		{0, 30, nil},
		{-1, 0, nil},
		{1, 0, [][2]int64{{0, 1}}},
		{100, 0, [][2]int64{{0, 100}}},
		{100, 99, [][2]int64{{0, 1}, {1, 100}}},
		{1, 99, [][2]int64{{0, 1}}},
		{101, 99, [][2]int64{{0, 1}, {1, 101}}},
		{250, 30, [][2]int64{{0, 70}, {70, 170}, {170, 250}}},
		{200, 0, [][2]int64{{0, 100}, {100, 200}}},
		{200, 100, [][2]int64{{0, 100}, {100, 200}}}, // a phase of a whole chunk is phase 0
		{200, 130, [][2]int64{{0, 70}, {70, 170}, {170, 200}}},
	}
	for _, tc := range tests {
		n := ChunkCount(tc.size, tc.phase, 100)
		require.Equal(t, len(tc.want), n, "%+v", tc)
		for i := range n {
			lo, hi := ChunkBounds(tc.size, tc.phase, 100, i)
			require.Equal(t, tc.want[i], [2]int64{lo, hi}, "%+v chunk %d", tc, i)
		}
	}
	require.Zero(t, ChunkCount(100, 0, 0))
}
