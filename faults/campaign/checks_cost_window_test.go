package campaign

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
)

// TestWindowErased: the journal blocks bounded-cost takes as one window
// erase are exactly those of a 64 KiB-aligned window in the area in
// charge, erased by consecutive erase-block operations from its first
// block, which receives one of the phase's records; any other unit erase
// is judged alone.
func TestWindowErased(t *testing.T) {
	const e = 4 << 10
	b := &reference.Backup{StoreOff: 0x10000, Area: 1}
	b.Superblock.EraseSize = e
	b.Superblock.JournalBlocks = 48
	b.Superblock.JournalFirst = [2]uint32{0, 48} // area 1: [0x40000, 0x70000)
	window := func(start, from int64, n int) []faults.Op {
		var ops []faults.Op
		for k := range n {
			ops = append(ops, faults.Op{Index: from + int64(k), Role: faults.Backup, Kind: faults.Erase, Off: start + int64(k)*e, Len: e})
		}
		return ops
	}
	record := []reference.Record{{Seq: 9, Off: 0x50000, Size: 256}}
	tests := []struct {
		name   string
		writes []faults.Op
		fresh  []reference.Record
		want   int
	}{
		{"a whole window entered at its first block", window(0x50000, 100, 16), record, 16},
		{"one op for the window", []faults.Op{{Index: 100, Role: faults.Backup, Kind: faults.Erase, Off: 0x50000, Len: 0x10000}}, record, 16},
		{"a window short of its last block", window(0x50000, 100, 15), record, 0},
		{"the window's erases not consecutive", append(window(0x50000, 100, 8), window(0x58000, 110, 8)...), record, 0},
		{"no record in the window's first block", window(0x50000, 100, 16), []reference.Record{{Seq: 9, Off: 0x51000, Size: 256}}, 0},
		{"a window of the other area", window(0x20000, 100, 16), []reference.Record{{Seq: 9, Off: 0x20000, Size: 256}}, 0},
		{"the primary's erases", func() []faults.Op {
			ops := window(0x50000, 100, 16)
			for k := range ops {
				ops[k].Role = faults.Primary
			}
			return ops
		}(), record, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := windowErased(b, costWrites{phase: "live round", chip: 1, writes: tt.writes}, tt.fresh)
			require.Len(t, got, tt.want)
		})
	}
}
