package engine

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestScrubChecksOnlyChunksTheTableCovers: the primary's region header is
// rewritten after a round so that one type's extent is one erase block
// smaller than its committed payload (its record and change table left as
// they were): the table now has one entry fewer than the committed chunks.
// A chunk the table still covers, changed behind its back, is a
// change-table fault; the last committed chunk, whose index equals the
// table's entry count, has no entry to compare with (the 8 bytes after the
// table are not its entry), so a change there is left to the rounds,
// which read chunks outside the table.
func TestScrubChecksOnlyChunksTheTableCovers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fromLast int // the changed chunk: last committed chunk index minus this
		fault    bool
	}{
		{name: "last chunk the table covers", fromLast: 1, fault: true},
		{name: "chunk at the table's entry count", fromLast: 0, fault: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := newPair(t, 8<<20, 1<<20, DefaultConfig())
			e := p.open(t)
			_, err := e.Round(ctx)
			require.NoError(t, err)
			bk, err := store.Open(p.chipB, p.opts.Layout.StoreOff, p.opts.Layout.StoreSize, store.Options{ReadOnly: true})
			require.NoError(t, err)
			eb := p.chipA.Geometry().EraseSize

			// Shrink the first type whose extent can lose its last
			// committed chunk's block and still decode.
			r := p.region(t, p.chipA)
			h := r.Header()
			var ts store.TypeState
			found := false
			for i, x := range h.Extents {
				c, ok := bk.StateRef().Type(uint8(x.Type))
				if !ok || len(c.Chunks) < 2 {
					continue
				}
				shrunk := h
				shrunk.Extents = append([]info.ExtentInfo(nil), h.Extents...)
				shrunk.Extents[i].Capacity = int64(len(c.Chunks)-1) * eb
				enc := shrunk.Encode()
				if _, err := info.DecodeRegionHeader(enc); err != nil {
					continue
				}
				p.chipA.Poke(p.opts.Layout.InfoOff, enc)
				ts, found = *c, true
				break
			}
			require.True(t, found, "a type to shrink")
			ty := info.Type(ts.Type)
			r = p.region(t, p.chipA)
			_, entries, ok := r.ChangeTable(ty)
			require.True(t, ok)
			require.Equal(t, len(ts.Chunks)-1, entries)

			i := len(ts.Chunks) - 1 - tc.fromLast
			off, _ := r.Extent(ty)
			lo, hi := store.ChunkBounds(ts.Size, int64(ts.Phase), eb, i)
			require.Less(t, lo, hi)
			b := make([]byte, 1)
			_, err = p.chipA.ReadAt(b, off+info.RecordHeaderSize+lo)
			require.NoError(t, err)
			b[0] ^= 0x5A
			p.chipA.Poke(off+info.RecordHeaderSize+lo, b)

			faults, err := e.ScrubPrimary(ctx)
			require.NoError(t, err)
			if !tc.fault {
				require.Empty(t, faults)
				require.Zero(t, e.Status().Counters.ChangeTableFaults)
				return
			}
			require.Equal(t, []TableFault{{Type: ty, Index: i, Generation: bk.StateRef().Generation}}, faults)
			require.Equal(t, int64(1), e.Status().Counters.ChangeTableFaults)
		})
	}
}
