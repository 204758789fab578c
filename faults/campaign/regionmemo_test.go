package campaign

import (
	"context"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestRegionMemo: regionKnownHolds, the memo of what checkFailoverRestored
// read of a region, says a region holds a generation only when
// regionHolds would read it so: the region's blocks unchanged since it was
// read, and every type read with the generation's payload.
func TestRegionMemo(t *testing.T) {
	b, err := loadBench(context.Background(), "standard", 1, engine.None)
	require.NoError(t, err)
	w, err := newWorker(b)
	require.NoError(t, err)
	fresh := func() {
		w.chips[0].Restore(b.base[0])
		w.chips[1].Restore(b.base[1])
		w.stable = true
	}
	fresh()
	g, err := w.regionGeneration(0)
	require.NoError(t, err)
	require.Len(t, g.payloads, len(b.scenario.Types))
	other := &generation{payloads: maps.Clone(g.payloads)}
	first := b.scenario.Types[0]
	other.payloads[first] = append([]byte{0}, g.payloads[first]...)
	missing := &generation{payloads: maps.Clone(g.payloads)}
	delete(missing.payloads, first)
	l := b.layout
	for _, tc := range []struct {
		name  string
		chip  int // the chip asked about (the memo is of chip 0)
		g     *generation
		read  map[info.Type][]byte // what the memo saw (nil: nothing)
		touch int64                // offset in the region to change after the read, or -1
		known bool
	}{
		{"unchanged", 0, g, g.payloads, -1, true},
		{"another chip", 1, g, g.payloads, -1, false},
		{"no read", 0, g, nil, -1, false},
		{"a type not read", 0, g, missing.payloads, -1, false},
		{"another payload", 0, other, g.payloads, -1, false},
		{"first block changed", 0, g, g.payloads, 0, false},
		{"last block changed", 0, g, g.payloads, l.InfoSize - 16, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh()
			w.region = nil
			if tc.read != nil {
				w.noteRegion(0, tc.read)
			}
			if tc.touch >= 0 {
				// Change the block without changing its contents' meaning
				// to the memo: a version is all it may go by.
				buf := make([]byte, 16)
				_, err := w.chips[0].ReadAt(buf, l.InfoOff+tc.touch)
				require.NoError(t, err)
				_, err = w.chips[0].WriteAt(buf, l.InfoOff+tc.touch)
				require.NoError(t, err)
			}
			require.Equal(t, tc.known, w.regionKnownHolds(tc.chip, tc.g))
			if tc.known {
				require.True(t, w.regionHolds(tc.chip, tc.g))
			}
		})
	}
}
