package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestDeltaRecordCapByLayout: deltaRecordCap by the formula of its comment,
// worked by hand for three layouts of the 3 MiB test store (E = 4096,
// format version 5; ⌊(E−44)/44⌋ = 92 checkpoint-chunks entries a block,
// ⌊(E−44)/49⌋ = 82 intent-chunks entries, ⌊E/24⌋ = 170 delta records, 47
// bytes an intent-deltas entry in E−28−14 = 4054, ⌊(E−28−10)/17⌋ = 238
// checkpoint-deltas entries a block). At 184 chunks the checkpoint's chunk
// records take ⌊184/92⌋ + 1 = 3 blocks (by ⌊(E+44)/44⌋ = 94 it would be
// 2, and the cap a block's worth higher).
func TestDeltaRecordCapByLayout(t *testing.T) {
	for _, tc := range []struct {
		maxChunks int
		k         uint32 // journal blocks of an area
		cap       int
	}{
		// checkpoint ⌊100/92⌋+1+6+2 = 10; round 1+1+⌊4700/4054⌋+1+0+1 = 5;
		// 85 − 10 − 5 − 8 = 62 blocks.
		{maxChunks: 100, k: 85, cap: 62 * 238},
		// checkpoint 2+1+6+2 = 11; round 2+1+⌊8648/4054⌋+1+1+1 = 8;
		// 87 − 11 − 8 − 8 = 60 blocks.
		{maxChunks: 184, k: 87, cap: 60 * 238},
		// checkpoint 2+1+6+2 = 11; round 3+1+2+1+1+1 = 9; 88 − 11 − 9 − 8 = 60.
		{maxChunks: 250, k: 88, cap: 60 * 238},
	} {
		t.Run(fmt.Sprint(tc.maxChunks), func(t *testing.T) {
			f := newChip(t)
			require.NoError(t, Format(f, testStoreOff, testStoreSize, FormatOptions{
				ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: tc.maxChunks,
				Config: Config{Types: []uint8{1, 2}, Interval: time.Minute},
			}))
			s := openTest(t, f, Options{})
			require.Equal(t, int64(4096), s.eraseSize)
			require.Equal(t, uint32(FormatVersion), s.writeVersion())
			require.Equal(t, tc.k, s.layout.JournalBlocks)
			require.Equal(t, tc.cap, s.deltaRecordCap())
		})
	}
}
