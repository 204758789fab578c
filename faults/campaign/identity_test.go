package campaign

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/store"
	"github.com/stretchr/testify/require"
)

// foreignCopy0 writes, over chip B's superblock copy 0, the superblock
// copy 0 of another store: chip A of another pair, formatted on a store
// range half as large (so a reader taking it reads another layout). Copy
// 1 still carries chip B's identity: the engine reads the chip with it
// (docs/FORMAT.md 4.4); a reader knowing no identity takes copy 0.
func foreignCopy0(w *worker) error {
	b, l := w.bench, w.bench.layout
	scratch, _, err := b.scenario.openChips(b.part, b.seed)
	if err != nil {
		return err
	}
	half := l.StoreSize / 2 / b.eraseSize * b.eraseSize
	o := store.FormatOptions{ChipID: 0, PairID: otherPairPairID, Time: b.baseTime, MaxChunks: int(b.baseBackup.Superblock.MaxChunks), Config: store.Config{Interval: 60}}
	if err := store.Format(scratch[0], l.StoreOff, half, o); err != nil {
		return fmt.Errorf("the other store: %w", err)
	}
	blk := make([]byte, b.eraseSize)
	if _, err := scratch[0].ReadAt(blk, l.StoreOff); err != nil {
		return err
	}
	w.untracedWrites = true // the views cache knows nothing of this write
	if err := w.chips[1].Erase(l.StoreOff, b.eraseSize); err != nil {
		return err
	}
	_, err = w.chips[1].WriteAt(blk, l.StoreOff)
	return err
}

// TestOracleReadsTheCopyTheEngineMust: a run whose recovery left chip B's
// two superblock copies different — copy 0 another store's (chip A of
// another pair, another layout), copy 1 chip B's own — is judged on the
// copy the engine must use, copy 1: every invariant holds. A reader
// knowing no identity (reference.Decode, the oracle before it knew the
// chip) takes copy 0 and cannot read the store: the atomic invariant
// would fail on a right state.
func TestOracleReadsTheCopyTheEngineMust(t *testing.T) {
	ctx := context.Background()
	b, err := loadBench(ctx, "small", 1, engine.None)
	require.NoError(t, err)
	var (
		blindErr error
		known    *reference.Backup
	)
	tp := tamper{
		invariant: "none", wrong: "chip B's superblock copy 0 overwritten by another pair's chip A superblock",
		afterRecovery: func(w *worker, _ *trial, _ *recovery, _ *[]faults.Op) error {
			if err := foreignCopy0(w); err != nil {
				return err
			}
			l := w.bench.layout
			w.quiet(func() {
				_, blindErr = reference.Decode(w.chips[1], l.StoreOff, l.StoreSize)
				known, err = decodeChip(w.chips[1], w.chips[0], 1, l.StoreOff, l.StoreSize)
			})
			return err
		},
	}
	c := Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: engine.None}
	vs, err := runTampered(ctx, b, c, &tp)
	require.NoError(t, err)
	for _, v := range vs {
		require.True(t, v.OK, "%s: %s", v.Invariant, v.Saw)
	}
	require.Error(t, blindErr, "copy 0 (another layout) read without the identity")
	require.Equal(t, 1, known.SuperblockCopies.Used)
	require.Equal(t, reference.RuleExpected, known.SuperblockCopies.Rule)
	require.Equal(t, uint8(1), known.Superblock.ChipID)
	require.Equal(t, b.baseBackup.Superblock.PairID, known.Superblock.PairID)
}

// TestDecodeChipTakesThePairFromTheOtherChip: copies that differ only in
// the pair (another pair's chip B superblock, of another layout, over
// copy 0) are told apart by the pair of the other chip's store; without
// the other chip the chip id alone cannot, and copy 0 is used.
func TestDecodeChipTakesThePairFromTheOtherChip(t *testing.T) {
	b, err := loadBench(context.Background(), "small", 1, engine.None)
	require.NoError(t, err)
	l := b.layout
	chips, _, err := b.scenario.openChips(b.part, b.seed)
	require.NoError(t, err)
	chips[0].Restore(b.base[0])
	chips[1].Restore(b.base[1])
	scratch, _, err := b.scenario.openChips(b.part, b.seed)
	require.NoError(t, err)
	o := store.FormatOptions{ChipID: 1, PairID: otherPairPairID, Time: b.baseTime, MaxChunks: int(b.baseBackup.Superblock.MaxChunks), Config: store.Config{Interval: 60}}
	require.NoError(t, store.Format(scratch[1], l.StoreOff, l.StoreSize/2/b.eraseSize*b.eraseSize, o))
	blk := make([]byte, b.eraseSize)
	_, err = scratch[1].ReadAt(blk, l.StoreOff)
	require.NoError(t, err)
	require.NoError(t, chips[1].Erase(l.StoreOff, b.eraseSize))
	_, err = chips[1].WriteAt(blk, l.StoreOff)
	require.NoError(t, err)

	tests := []struct {
		name  string
		other io.ReaderAt
		used  int // -1: copy 0 is used, and its layout does not fit
	}{
		{"the other chip's pair decides", chips[0], 1},
		{"no other chip: copy 0", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bk, err := decodeChip(chips[1], tt.other, 1, l.StoreOff, l.StoreSize)
			if tt.used < 0 {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.used, bk.SuperblockCopies.Used)
			require.Equal(t, b.baseBackup.Superblock.PairID, bk.Superblock.PairID)
			require.Equal(t, b.baseBackup.Committed.Generation, bk.Committed.Generation)
		})
	}
}
