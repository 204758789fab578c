package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// TestFormatProgramsNothingPastTheInitialCheckpoint: Format programs the
// initial checkpoint block by block and nothing after its last block, not
// even an empty program: with every program from the block after the
// checkpoint to the end of journal area 0 failing (a media error), Format
// still succeeds, and no program it issues is empty. The 1 KiB chip's
// checkpoint (two one-block records) ends exactly at a block's end, where
// a loop bound of i*e <= len(img) would issue a zero-length program at the
// next block.
func TestFormatProgramsNothingPastTheInitialCheckpoint(t *testing.T) {
	cfg := Config{Types: []uint8{1, 2, 3, 4, 5, 6}, Interval: time.Minute, Threshold: time.Second}
	for _, tc := range []struct {
		name        string
		eraseSize   int64 // 0: the part's own (4 KiB)
		pageSize    int64
		blocksExact bool // the checkpoint fills whole erase blocks
	}{
		{name: "4KiB erase blocks, checkpoint ends inside its block"},
		{name: "1KiB erase block and slot, checkpoint ends at a block end", eraseSize: 1024, pageSize: 1024, blocksExact: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := simtest.Part(t, "mx66l1g45g")
			if tc.eraseSize > 0 {
				p.Name, p.EraseSize, p.PageSize, p.BlockEraseSize = "small", tc.eraseSize, tc.pageSize, 0
			}
			chip, err := sim.New(sim.Options{Part: p, Size: 4 << 20, Name: "backup"})
			require.NoError(t, err)
			fo := FormatOptions{ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: 100, Config: cfg}
			sb, err := PlanLayout(chip.Geometry(), testStoreSize, fo)
			require.NoError(t, err)
			e := sb.EraseSize
			img := checkpointImage(&sb, 1, 1, &State{Config: cfg}, nil, 0, 0)
			require.Equal(t, tc.blocksExact, int64(len(img))%e == 0, "the case's checkpoint (%d bytes, %d-byte blocks)", len(img), e)
			a0 := testStoreOff + int64(sb.Journal[0])*e
			after := a0 + (int64(len(img))+e-1)/e*e
			areaEnd := a0 + int64(sb.JournalBlocks)*e

			var empty []faults.Op
			in := faults.NewInjector(faults.Schedule{Rules: []faults.Rule{{
				When: faults.And{Preds: []faults.Pred{faults.OnKind{Kind: faults.Program}, faults.Addr{Lo: after, Hi: areaEnd}}},
				Do:   faults.Fail{Kind: faults.FailMedia},
			}}}, faults.Options{Trace: func(op faults.Op) {
				if op.Kind == faults.Program && op.Len == 0 {
					empty = append(empty, op)
				}
			}})
			require.NoError(t, in.Err())
			f := in.Wrap(chip, faults.Backup)
			require.NoError(t, Format(f, testStoreOff, testStoreSize, fo))
			require.Empty(t, in.Fired(), "no program past the checkpoint's last block")
			require.Empty(t, empty, "no empty program")

			s, err := Open(chip, testStoreOff, testStoreSize, Options{})
			require.NoError(t, err)
			require.Empty(t, s.Findings())
			require.True(t, cfg.Equal(s.State().Config))
		})
	}
}
