package info

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWriteCountedMatchesTheChip checks WriteCounted's figures against the
// simulator's own counters and block versions: erases, bytes programmed
// (NOR program-only spans, whole erase blocks, NAND page padding) and the
// erase blocks touched, for writes that change nothing, clear bits only,
// rewrite blocks, append and shrink.
func TestWriteCountedMatchesTheChip(t *testing.T) {
	for _, chip := range []string{"nor", "nand"} {
		t.Run(chip, func(t *testing.T) {
			var r *Region
			if chip == "nor" {
				f := newNOR(t, 1<<20)
				r = formatted(t, f, 0, 1<<20)
			} else {
				f := newNAND(t, 4<<20)
				r = formatted(t, f, 128<<10, 2<<20)
			}
			f := r.Flash()
			sf := f.(interface{ BlockVersion(int64) uint64 })
			g := f.Geometry()
			blocks := g.Blocks()
			p := make([]byte, min(3*g.EraseSize+100, int64(r.Capacity(EventLog))-6000))
			for i := range p {
				p[i] = byte(i*13 + 1)
			}
			edits := []struct {
				name string
				edit func(p []byte) []byte
				zero bool // the write changes nothing
			}{
				{"first write", func(p []byte) []byte { return p }, false},
				{"same payload", func(p []byte) []byte { return p }, true},
				{"clear bits in the last block", func(p []byte) []byte { n := int64(len(p)); p[n-50] &= 0x10; p[n-900] = 0; return p }, false},
				{"set bits in block 0", func(p []byte) []byte { p[3] |= 0xFF; return p }, false},
				{"append", func(p []byte) []byte { return append(p, bytes.Repeat([]byte{0x5A}, 5000)...) }, false},
				{"shrink", func(p []byte) []byte { return p[:g.EraseSize/2] }, false},
			}
			for _, e := range edits {
				p = e.edit(bytes.Clone(p))
				before := stats(t, f)
				vBefore := blockVersions(sf, blocks)
				st, err := r.WriteCounted(EventLog, p)
				require.NoError(t, err, e.name)
				d := stats(t, f).Sub(before)
				vAfter := blockVersions(sf, blocks)
				var touched int64
				for b := range vBefore {
					if vBefore[b] != vAfter[b] {
						touched++
					}
				}
				require.Equal(t, d.Erases, st.Erases, "%s: erases", e.name)
				require.Equal(t, d.BytesProgrammed, st.BytesProgrammed, "%s: bytes programmed", e.name)
				require.Equal(t, touched, st.BlocksTouched, "%s: blocks touched", e.name)
				if e.zero {
					require.Equal(t, WriteStats{}, st, e.name)
				} else {
					require.Positive(t, st.BlocksTouched, e.name)
				}
				if g.WriteSize > 1 {
					require.Zero(t, st.BytesProgrammed%g.WriteSize, "%s: NAND programs whole pages", e.name)
				}
				rec, err := r.Read(EventLog)
				require.NoError(t, err, e.name)
				require.Equal(t, p, rec.Payload, e.name)
			}
		})
	}
}

// TestExtentAndCapacity checks the chip offsets and capacities against the
// header's extents, for a region that does not start at 0, and the 0 an
// invalid type gets.
func TestExtentAndCapacity(t *testing.T) {
	f := newNOR(t, 2<<20)
	r := formatted(t, f, 256<<10, 1<<20)
	h := r.Header()
	for _, e := range h.Extents {
		off, size := r.Extent(e.Type)
		require.Equal(t, 256<<10+e.Off, off, e.Type)
		require.Equal(t, e.Capacity, size, e.Type)
		require.Equal(t, int(e.Capacity)-RecordHeaderSize, r.Capacity(e.Type), e.Type)
	}
	for _, bad := range []Type{0, NumTypes + 1, 255} {
		off, size := r.Extent(bad)
		require.Zero(t, off, bad)
		require.Zero(t, size, bad)
		require.Zero(t, r.Capacity(bad), bad)
		_, err := r.Read(bad)
		require.EqualError(t, err, fmt.Sprintf("unknown information type %d (want 1..6)", bad))
		_, err = r.WriteCounted(bad, nil)
		require.Error(t, err)
	}
	require.Equal(t, int64(256<<10), r.Offset())
	require.Equal(t, int64(1<<20), r.Size())
}

// TestRegionPlaceBounds checks checkPlace's bounds: a region ending
// exactly at the chip's end formats and opens, one erase block further
// does not, with the exact message.
func TestRegionPlaceBounds(t *testing.T) {
	f := newNOR(t, 1<<20)
	eb := f.Geometry().EraseSize
	tests := []struct {
		off, size int64
		want      string
	}{
		{off: 1<<20 - 256<<10, size: 256 << 10},
		{off: 1<<20 - 256<<10 + eb, size: 256 << 10, want: "information region [0xc1000+0x40000] does not fit primary (1MiB)"},
		{off: 1 << 20, size: 256 << 10, want: "information region [0x100000+0x40000] does not fit primary (1MiB)"},
		{off: 1<<20 + eb, size: 256 << 10, want: "information region [0x101000+0x40000] does not fit primary (1MiB)"},
		{off: eb, size: -eb, want: "information region [0x1000+-0x1000] on primary: offset and size must be positive multiples of the erase size 0x1000"},
		{off: -1, size: 256 << 10, want: "information region [-0x1+0x40000] on primary: offset and size must be positive multiples of the erase size 0x1000"},
		{off: 0, size: eb + 1, want: "information region [0x0+0x1001] on primary: offset and size must be positive multiples of the erase size 0x1000"},
	}
	for _, tc := range tests {
		err := FormatRegion(f, tc.off, tc.size)
		_, oerr := OpenRegion(f, tc.off, tc.size)
		if tc.want == "" {
			require.NoError(t, err)
			require.NoError(t, oerr)
			continue
		}
		require.EqualError(t, err, tc.want)
		require.EqualError(t, oerr, tc.want)
	}
}
