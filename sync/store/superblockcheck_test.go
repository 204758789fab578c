package store

import (
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/stretchr/testify/require"
)

// TestSuperblockCheck checks each rule of Superblock.check on a layout
// that breaks only that rule, with the exact message, and the values on
// each bound that pass. The base is formatTest's layout: 768 blocks of 4
// KiB, journals of 88 blocks at 2 and 90, data 178+590.
func TestSuperblockCheck(t *testing.T) {
	_, s := newStore(t)
	base := s.Superblock()
	require.Equal(t, Superblock{Version: FormatVersion, ChipID: 1, Kind: uint8(hal.NOR), PairID: 42, StoreSize: testStoreSize,
		EraseSize: 4096, SlotSize: 256, JournalBlocks: 88, Journal: [2]uint32{2, 90}, DataFirst: 178, DataBlocks: 590,
		MaxChunks: testMaxChunks, Formatted: base.Formatted}, base)
	require.NoError(t, base.check())
	const (
		corrupt = "corrupt store: "
		data    = corrupt + "superblock data area "
		journal = corrupt + "superblock journal layout "
	)
	tests := []struct {
		name string
		edit func(sb *Superblock)
		want string // "" when the layout is good
	}{
		{"oldest version", func(sb *Superblock) { sb.Version = minFormatVersion }, ""},
		{"version 0", func(sb *Superblock) { sb.Version = minFormatVersion - 1 }, "unsupported store format version: the store is format version 0, this cmcsync reads versions 1 to 5"},
		{"newer version", func(sb *Superblock) { sb.Version = FormatVersion + 1 }, "unsupported store format version: the store is format version 6, this cmcsync reads versions 1 to 5"},
		{"chip 0", func(sb *Superblock) { sb.ChipID = 0 }, ""},
		{"chip 2", func(sb *Superblock) { sb.ChipID = 2 }, corrupt + "superblock chip id 2"},
		{"NAND", func(sb *Superblock) { sb.Kind = uint8(hal.NAND) }, ""},
		{"kind 0", func(sb *Superblock) { sb.Kind = 0 }, corrupt + "superblock flash kind 0"},
		{"kind 3", func(sb *Superblock) { sb.Kind = 3 }, corrupt + "superblock flash kind 3"},
		{"erase size 3 KiB", func(sb *Superblock) { sb.EraseSize = 3072 }, corrupt + "superblock erase size 3072"},
		{"erase size 0", func(sb *Superblock) { sb.EraseSize = 0 }, corrupt + "superblock erase size 0"},
		{"erase size -4096", func(sb *Superblock) { sb.EraseSize = -4096 }, corrupt + "superblock erase size -4096"},
		{"erase size 512", func(sb *Superblock) { sb.EraseSize = minEraseSize / 2 }, corrupt + "superblock erase size 512"},
		// 1 KiB passes the erase-size rule; 3 MiB is then 3072 blocks.
		{"erase size 1 KiB", func(sb *Superblock) { sb.EraseSize = minEraseSize }, data + "178+590 in 3072 blocks"},
		{"erase size 16 MiB", func(sb *Superblock) { sb.EraseSize = 1 << 24 }, corrupt + "superblock store size 3145728"},
		{"erase size 32 MiB", func(sb *Superblock) { sb.EraseSize = 1 << 25 }, corrupt + "superblock erase size 33554432"},
		{"slot = erase size", func(sb *Superblock) { sb.SlotSize = 4096 }, ""},
		{"slot over erase size", func(sb *Superblock) { sb.SlotSize = 8192 }, corrupt + "superblock slot size 8192"},
		{"slot 0", func(sb *Superblock) { sb.SlotSize = 0 }, corrupt + "superblock slot size 0"},
		{"slot 384", func(sb *Superblock) { sb.SlotSize = 384 }, corrupt + "superblock slot size 384"},
		{"slot 1", func(sb *Superblock) { sb.SlotSize = 1 }, ""},
		{"store size 0", func(sb *Superblock) { sb.StoreSize = 0 }, corrupt + "superblock store size 0"},
		{"store size negative", func(sb *Superblock) { sb.StoreSize = -testStoreSize }, corrupt + "superblock store size -3145728"},
		{"store size off by one", func(sb *Superblock) { sb.StoreSize++ }, corrupt + "superblock store size 3145729"},
		{"one block more", func(sb *Superblock) { sb.StoreSize += 4096 }, data + "178+590 in 769 blocks"},
		{"one block more, data too", func(sb *Superblock) { sb.StoreSize += 4096; sb.DataBlocks++ }, ""},
		{"journal 3 blocks", func(sb *Superblock) { sb.JournalBlocks = 3 }, journal + "2+3,90"},
		{"journal 4 blocks", func(sb *Superblock) {
			sb.JournalBlocks, sb.Journal[1], sb.DataFirst, sb.DataBlocks = 4, 6, 10, 758
		}, ""},
		{"first journal at 3", func(sb *Superblock) { sb.Journal[0] = 3 }, journal + "3+88,90"},
		{"first journal at 1", func(sb *Superblock) { sb.Journal[0] = 1 }, journal + "1+88,90"},
		{"second journal at 91", func(sb *Superblock) { sb.Journal[1] = 91 }, journal + "2+88,91"},
		{"second journal at 89", func(sb *Superblock) { sb.Journal[1] = 89 }, journal + "2+88,89"},
		{"data first 179", func(sb *Superblock) { sb.DataFirst = 179; sb.DataBlocks = 589 }, data + "179+589 in 768 blocks"},
		{"data first 177", func(sb *Superblock) { sb.DataFirst = 177; sb.DataBlocks = 591 }, data + "177+591 in 768 blocks"},
		{"data one short", func(sb *Superblock) { sb.DataBlocks = 589 }, data + "178+589 in 768 blocks"},
		{"data one over", func(sb *Superblock) { sb.DataBlocks = 591 }, data + "178+591 in 768 blocks"},
		{"no data", func(sb *Superblock) { sb.StoreSize = 178 * 4096; sb.DataBlocks = 0 }, data + "178+0 in 178 blocks"},
		{"one data block", func(sb *Superblock) { sb.StoreSize = 179 * 4096; sb.DataBlocks = 1 }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sb := base
			tc.edit(&sb)
			err := sb.check()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error()[:min(len(err.Error()), len(tc.want))])
			if tc.want[:len(corrupt)] == corrupt {
				require.ErrorIs(t, err, ErrCorrupt)
			} else {
				require.ErrorIs(t, err, ErrVersion)
			}
			// The encoded superblock decodes to the same verdict (sizes
			// are encoded as u32: a negative erase size reads back as a
			// large one).
			if sb.EraseSize >= 0 {
				_, derr := decodeSuperblock(sb.encode())
				require.EqualError(t, derr, err.Error())
			}
		})
	}
}
