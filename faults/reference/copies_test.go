package reference_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/store"
)

// TestSuperblockCopyByIdentity: of two valid superblock copies that
// differ in identity, Decode (a reader that does not know the store's
// identity) uses copy 0, and DecodeAs the one copy that carries the
// identity given, as docs/FORMAT.md 4.4 says; both name the copies, the
// one used, the rule, and (copies of two chip ids) the copy for chip A
// and for chip B. The store's reader, with and without the same expected
// identity, uses the same copy. Checked failing with DecodeAs ignoring the
// identity and with AsChip swapped.
func TestSuperblockCopyByIdentity(t *testing.T) {
	p := newPair(t, 3)
	chip, l := p.chips[1], p.layout // chip B: chip id 1
	base := chip.Snapshot()
	pair := p.chips[0]
	var sb0 [8]byte
	_, err := pair.ReadAt(sb0[:], l.StoreOff+24+8)
	require.NoError(t, err)
	pairID := binary.LittleEndian.Uint64(sb0[:])
	ref, err := reference.Decode(chip, l.StoreOff, l.StoreSize)
	require.NoError(t, err)
	copy1 := l.StoreOff + ref.Superblock.EraseSize
	require.Equal(t, reference.RuleEqual, ref.SuperblockCopies.Rule)

	type decoding struct {
		want   *reference.Identity // nil: Decode
		used   int
		rule   reference.CopyRule
		chipID uint8
		pairID uint64
	}
	for _, tt := range []struct {
		name     string
		damage   func()
		asChip   *[2]int
		states   [2]reference.CopyState
		decoding []decoding
	}{
		{name: "copy 0 says chip id 0 (the other chip's)", damage: func() {
			rewrite(t, chip, l.StoreOff, func(_, b []byte) { b[4] = 0 })
		}, asChip: &[2]int{0, 1}, states: [2]reference.CopyState{reference.CopyValid, reference.CopyValid}, decoding: []decoding{
			{nil, 0, reference.RuleCopy0, 0, pairID},
			{&reference.Identity{ChipID: 1}, 1, reference.RuleExpected, 1, pairID},
			{&reference.Identity{ChipID: 1, PairID: pairID}, 1, reference.RuleExpected, 1, pairID},
			{&reference.Identity{ChipID: 0}, 0, reference.RuleExpected, 0, pairID},
		}},
		{name: "copy 1 says chip id 0", damage: func() {
			rewrite(t, chip, copy1, func(_, b []byte) { b[4] = 0 })
		}, asChip: &[2]int{1, 0}, states: [2]reference.CopyState{reference.CopyValid, reference.CopyValid}, decoding: []decoding{
			{nil, 0, reference.RuleCopy0, 1, pairID},
			{&reference.Identity{ChipID: 1}, 0, reference.RuleExpected, 1, pairID},
			{&reference.Identity{ChipID: 0}, 1, reference.RuleExpected, 0, pairID},
		}},
		{name: "copy 0 is another pair's", damage: func() {
			rewrite(t, chip, l.StoreOff, func(_, b []byte) { binary.LittleEndian.PutUint64(b[8:], pairID+2) })
		}, states: [2]reference.CopyState{reference.CopyValid, reference.CopyValid}, decoding: []decoding{
			{nil, 0, reference.RuleCopy0, 1, pairID + 2},
			{&reference.Identity{ChipID: 1}, 0, reference.RuleCopy0, 1, pairID + 2}, // both carry chip id 1, any pair
			{&reference.Identity{ChipID: 1, PairID: pairID}, 1, reference.RuleExpected, 1, pairID},
		}},
		{name: "copy 1 erased", damage: func() {
			require.NoError(t, chip.Erase(copy1, ref.Superblock.EraseSize))
		}, states: [2]reference.CopyState{reference.CopyValid, reference.CopyErased}, decoding: []decoding{
			{nil, 0, reference.RuleOnlyValid, 1, pairID},
			{&reference.Identity{ChipID: 0}, 0, reference.RuleOnlyValid, 1, pairID},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			chip.Restore(base)
			tt.damage()
			for _, d := range tt.decoding {
				var b *reference.Backup
				var err error
				var expect *store.Identity
				if d.want == nil {
					b, err = reference.Decode(chip, l.StoreOff, l.StoreSize)
				} else {
					b, err = reference.DecodeAs(chip, l.StoreOff, l.StoreSize, *d.want)
					expect = &store.Identity{ChipID: d.want.ChipID, PairID: d.want.PairID}
				}
				require.NoError(t, err)
				c := b.SuperblockCopies
				require.Equal(t, d.used, c.Used, "%+v", d.want)
				require.Equal(t, d.rule, c.Rule, "%+v", d.want)
				require.Equal(t, d.chipID, b.Superblock.ChipID)
				require.Equal(t, d.pairID, b.Superblock.PairID)
				require.Equal(t, b.Superblock, c.Copies[c.Used].Superblock)
				require.Equal(t, tt.asChip, c.AsChip)
				for i, cp := range c.Copies {
					require.Equal(t, tt.states[i], cp.State, "copy %d", i)
				}
				require.Equal(t, []int64{l.StoreOff, copy1}, []int64{c.Copies[0].Off, c.Copies[1].Off})
				require.True(t, b.Damaged(), "differing copies are damage")

				// The store's own reader, told the same, uses the same copy.
				s, err := store.Open(chip, l.StoreOff, l.StoreSize, store.Options{ReadOnly: true, Expect: expect})
				if d.want != nil && d.want.ChipID != b.Superblock.ChipID {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, d.used, s.Report(false).Copies.Used, "%+v", d.want)
				require.Equal(t, d.chipID, s.Superblock().ChipID)
				require.Equal(t, d.pairID, s.Superblock().PairID)
				s.Release()
			}
		})
	}
}
