package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReportSuperblockCopies: Report names both superblock copies, the one
// used and the rule that chose it (docs/FORMAT.md 4.4): copy 0 of two that
// differ when the reader does not know the store's identity, the expected
// one when it does, and, when the copies differ in chip id, the copy the
// engine uses as chip A and as chip B. Checked failing with Used always 0
// and with AsChip's entries swapped.
func TestReportSuperblockCopies(t *testing.T) {
	foreign := func(chipID uint8, pair uint64) []byte {
		o := newChip(t)
		require.NoError(t, Format(o, testStoreOff, testStoreSize, FormatOptions{ChipID: chipID, PairID: pair, MaxChunks: testMaxChunks,
			Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}))
		return readBytes(t, o, testStoreOff, 4096)
	}
	for _, tt := range []struct {
		name     string
		copy     int64  // the copy overwritten
		sb       []byte // with this block; nil: erased
		expect   *Identity
		states   [2]CopyState
		chipIDs  [2]uint8 // of the valid copies
		used     int
		why      string
		asChip   *[2]int
		differ   bool
		identity Identity
	}{
		{name: "equal", copy: -1, states: [2]CopyState{CopyValid, CopyValid}, chipIDs: [2]uint8{1, 1}, why: "the two copies are equal", identity: Identity{ChipID: 1, PairID: 42}},
		{name: "the other chip's on copy 0, identity unknown", copy: 0, sb: foreign(0, 42), states: [2]CopyState{CopyValid, CopyValid}, chipIDs: [2]uint8{0, 1},
			why:    "does not know which chip of which pair the store is: copy 0 (docs/FORMAT.md 4.4); the engine, which knows, uses copy 0 on chip A (chip id 0) and copy 1 on chip B (chip id 1)",
			asChip: &[2]int{0, 1}, differ: true, identity: Identity{ChipID: 0, PairID: 42}},
		{name: "the other chip's on copy 0, chip B expected", copy: 0, sb: foreign(0, 42), expect: &Identity{ChipID: 1, PairID: 42}, states: [2]CopyState{CopyValid, CopyValid}, chipIDs: [2]uint8{0, 1},
			used: 1, why: "copy 1 carries the expected identity (chip id 1, pair 0x2a), copy 0 does not", asChip: &[2]int{0, 1}, differ: true, identity: Identity{ChipID: 1, PairID: 42}},
		{name: "the other chip's on copy 1, identity unknown", copy: 1, sb: foreign(0, 42), states: [2]CopyState{CopyValid, CopyValid}, chipIDs: [2]uint8{1, 0},
			why: "uses copy 1 on chip A (chip id 0) and copy 0 on chip B", asChip: &[2]int{1, 0}, differ: true, identity: Identity{ChipID: 1, PairID: 42}},
		{name: "another pair's on copy 0", copy: 0, sb: foreign(1, 43), states: [2]CopyState{CopyValid, CopyValid}, chipIDs: [2]uint8{1, 1},
			why: "uses the copy of the other chip's pair", differ: true, identity: Identity{ChipID: 1, PairID: 43}},
		{name: "copy 1 erased", copy: 1, states: [2]CopyState{CopyValid, CopyErased}, chipIDs: [2]uint8{1}, why: "copy 0 is the only valid copy", differ: true, identity: Identity{ChipID: 1, PairID: 42}},
		{name: "copy 0 erased", copy: 0, states: [2]CopyState{CopyErased, CopyValid}, chipIDs: [2]uint8{0, 1}, used: 1, why: "copy 1 is the only valid copy", differ: true, identity: Identity{ChipID: 1, PairID: 42}},
		{name: "copy 0 garbage", copy: 0, sb: []byte("not a superblock record, but some bytes"), states: [2]CopyState{CopyInvalid, CopyValid}, chipIDs: [2]uint8{0, 1}, used: 1, why: "copy 1 is the only valid copy", differ: true, identity: Identity{ChipID: 1, PairID: 42}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newChip(t)
			formatTest(t, f) // chip 1 of pair 42
			if tt.copy >= 0 {
				require.NoError(t, f.Erase(testStoreOff+tt.copy*4096, 4096))
				if tt.sb != nil {
					_, err := f.WriteAt(tt.sb, testStoreOff+tt.copy*4096)
					require.NoError(t, err)
				}
			}
			s := openTest(t, f, Options{ReadOnly: true, Expect: tt.expect})
			id := s.Identity()
			id.Version = 0
			require.Equal(t, tt.identity, id)
			c := s.Report(false).Copies
			for i, cp := range c.Copies {
				require.Equal(t, tt.states[i], cp.State, "copy %d", i)
				require.Equal(t, testStoreOff+int64(i)*4096, cp.Off)
				if cp.State == CopyValid {
					require.Equal(t, tt.chipIDs[i], cp.Superblock.ChipID, "copy %d", i)
				} else {
					require.NotEqual(t, CopyErased == cp.State, cp.Error != "", "an invalid copy says why, an erased one needs not")
				}
			}
			require.Equal(t, tt.used, c.Used)
			require.Equal(t, s.Superblock(), *c.Copies[c.Used].Superblock, "Used is the copy the store was opened with")
			require.Contains(t, c.Why, tt.why)
			require.Equal(t, tt.asChip, c.AsChip)
			require.Equal(t, tt.differ, c.Differ())
		})
	}
}
