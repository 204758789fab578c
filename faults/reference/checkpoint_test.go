package reference_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestCheckpointAndSuperblockFindings damages a compacted store — area 1
// holds a checkpoint of epoch 2 (begin, chunk records, end) and nothing
// after it, area 0 the journal it replaced — in its superblocks and its
// checkpoint, and requires the matching findings and the area the
// document says is in charge.
func TestCheckpointAndSuperblockFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	p := newPair(t, 5)
	p.round(0)
	p.round(10 * time.Minute)
	p.compact(1)
	chip, l := p.chips[1], p.layout
	ref := requireAgree(t, chip, l, "compacted")
	require.Equal(t, 1, ref.Area)
	require.Equal(t, uint64(2), ref.Epoch)
	cp := ref.Journal
	require.Equal(t, reference.KindCheckpointBegin, cp[0].Kind)
	require.Equal(t, reference.KindCheckpointEnd, cp[len(cp)-1].Kind)
	require.Greater(t, len(cp), 3, "the checkpoint has chunk records")
	end, chunks := cp[len(cp)-1], cp[1]
	base := chip.Snapshot()
	copy1 := l.StoreOff + ref.Superblock.EraseSize

	tests := []struct {
		name   string
		damage func(t *testing.T)
		kinds  []reference.FindingKind
		area   int
	}{
		{name: "superblock copy 0", damage: func(t *testing.T) { flip(chip, l.StoreOff+40) },
			kinds: []reference.FindingKind{reference.SuperblockDamaged}, area: 1},
		{name: "superblock copy 1", damage: func(t *testing.T) { flip(chip, copy1+40) },
			kinds: []reference.FindingKind{reference.SuperblockDamaged}, area: 1},
		{name: "superblock copies differ", damage: func(t *testing.T) {
			rewrite(t, chip, copy1, func(_, b []byte) { b[56] ^= 1 }) // format time
		}, kinds: []reference.FindingKind{reference.SuperblockDamaged}, area: 1},
		{name: "superblock copies differ in their version only", damage: func(t *testing.T) {
			rewrite(t, chip, copy1, func(_, b []byte) { b[0] = 1 }) // an upgrade cut between the copies
		}, area: 1},
		{name: "format intent in copy 0", damage: func(t *testing.T) {
			rewrite(t, chip, l.StoreOff, func(h, _ []byte) { h[4] = byte(reference.KindFormatIntent) }) // a format cut before its last step
		}, area: 1},
		{name: "stale area starts with another kind", damage: func(t *testing.T) {
			rewrite(t, chip, l.StoreOff+2*ref.Superblock.EraseSize, func(h, _ []byte) { h[4] = byte(reference.KindRole) })
		}, kinds: []reference.FindingKind{reference.AreaUnknown}, area: 1},
		{name: "both areas of one epoch", damage: func(t *testing.T) {
			rewrite(t, chip, l.StoreOff+2*ref.Superblock.EraseSize, func(_, b []byte) { b[0] = 2 })
		}, kinds: []reference.FindingKind{reference.CheckpointDamaged}, area: 1},
		{name: "checkpoint-end torn", damage: func(t *testing.T) { flip(chip, end.Off+10) },
			kinds: []reference.FindingKind{reference.TornTail, reference.CheckpointIncomplete}, area: 0},
		{name: "checkpoint-end with another count", damage: func(t *testing.T) {
			rewrite(t, chip, end.Off, func(_, b []byte) { b[8]++ })
		}, kinds: []reference.FindingKind{reference.CheckpointDamaged}, area: 0},
		{name: "checkpoint chunks out of order", damage: func(t *testing.T) {
			rewrite(t, chip, chunks.Off, func(_, b []byte) { binary.LittleEndian.PutUint32(b[9:], 1) })
		}, kinds: []reference.FindingKind{reference.CheckpointDamaged}, area: 0},
		{name: "checkpoint chunk record damaged", damage: func(t *testing.T) { flip(chip, chunks.Off+100) },
			kinds: []reference.FindingKind{reference.RecordDamaged, reference.CheckpointIncomplete}, area: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chip.Restore(base)
			tt.damage(t)
			ref := requireAgree(t, chip, l, tt.name)
			var kinds []reference.FindingKind
			for _, f := range ref.Findings {
				kinds = append(kinds, f.Kind)
			}
			require.Equal(t, tt.kinds, kinds, "findings %v", ref.Findings)
			require.Equal(t, tt.area, ref.Area)
			require.Equal(t, uint64(2), ref.Committed.Generation, "the same generation from either area")
		})
	}

	t.Run("checkpoint-begin of the area in charge", func(t *testing.T) {
		// Two more generations in area 1, then its checkpoint-begin is
		// damaged: area 0 holds only generation 2.
		chip.Restore(base)
		p.open()
		p.round(10 * time.Minute)
		p.round(10 * time.Minute)
		flip(chip, cp[0].Off+40)
		ref := requireAgree(t, chip, l, "damaged checkpoint-begin")
		require.Equal(t, 0, ref.Area)
		require.Equal(t, uint64(2), ref.Committed.Generation)
		require.Len(t, ref.Findings, 1)
		require.Equal(t, reference.CheckpointDamaged, ref.Findings[0].Kind, "%v", ref.Findings[0])
		require.True(t, ref.Damaged(), "the state rolled back to generation 2: damage, reported by both")
	})
	t.Run("both superblock copies", func(t *testing.T) {
		chip.Restore(base)
		flip(chip, l.StoreOff+40)
		flip(chip, copy1+40)
		_, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
		require.ErrorIs(t, err, reference.ErrNotFormatted)
		_, err = store.Open(chip, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true})
		require.ErrorIs(t, err, store.ErrNotFormatted)
	})
	t.Run("both checkpoints", func(t *testing.T) {
		chip.Restore(base)
		flip(chip, end.Off+10)
		flip(chip, l.StoreOff+2*ref.Superblock.EraseSize+10) // area 0's checkpoint-begin
		_, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
		require.ErrorIs(t, err, reference.ErrNoCheckpoint)
	})
	t.Run("another store size", func(t *testing.T) {
		chip.Restore(base)
		_, err := reference.Decode(chip, l.StoreOff, l.StoreSize-ref.Superblock.EraseSize)
		require.ErrorIs(t, err, reference.ErrLayout)
	})
	t.Run("a data area short of the store's end", func(t *testing.T) {
		chip.Restore(base)
		for _, off := range []int64{l.StoreOff, copy1} {
			rewrite(t, chip, off, func(_, b []byte) { b[48]-- }) // data blocks
		}
		ref, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
		require.NoError(t, err)
		require.Len(t, ref.Findings, 1)
		require.Equal(t, reference.LayoutMismatch, ref.Findings[0].Kind, "%v", ref.Findings[0])
	})
	t.Run("K against the formula", func(t *testing.T) {
		chip.Restore(base)
		for _, off := range []int64{l.StoreOff, copy1} {
			rewrite(t, chip, off, func(_, b []byte) { binary.LittleEndian.PutUint32(b[52:], 100000) }) // max chunks
		}
		ref, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
		require.NoError(t, err)
		require.Len(t, ref.Findings, 1)
		require.Equal(t, reference.LayoutMismatch, ref.Findings[0].Kind, "%v", ref.Findings[0])
	})
}
