package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOpenChecksIdentity: Open with an expected identity refuses a store
// of the other chip (a backup re-imaged from the primary's dump carries
// chip id 0 where 1 is expected) and one of another pair, each with its
// sentinel error; the store's Identity says what it is.
func TestOpenChecksIdentity(t *testing.T) {
	f := newChip(t)
	formatTest(t, f) // chip 1 of pair 42
	s := openTest(t, f, Options{ReadOnly: true})
	require.Equal(t, Identity{ChipID: 1, PairID: 42, Version: FormatVersion}, s.Identity())
	for _, tt := range []struct {
		name   string
		expect Identity
		err    error
	}{
		{name: "itself", expect: Identity{ChipID: 1, PairID: 42}},
		{name: "any pair", expect: Identity{ChipID: 1}},
		{name: "the other chip", expect: Identity{ChipID: 0, PairID: 42}, err: ErrWrongChip},
		{name: "another pair", expect: Identity{ChipID: 1, PairID: 7}, err: ErrForeignPair},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(f, testStoreOff, testStoreSize, Options{Expect: &tt.expect})
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.Contains(t, err.Error(), "0x100000", "the error says where")
		})
	}
}

// TestOpenExpectPicksItsOwnSuperblockCopy: one superblock copy overwritten
// by another store's (another pair's, the other chip's): Open expecting
// this store's identity uses the other copy, reports the overwritten one
// as damage and, opened for writing, rewrites it; without Expect copy 0
// is used as before; with both copies another store's, Open still refuses.
func TestOpenExpectPicksItsOwnSuperblockCopy(t *testing.T) {
	foreign := func(chipID uint8, pair uint64) []byte {
		o := newChip(t)
		require.NoError(t, Format(o, testStoreOff, testStoreSize, FormatOptions{ChipID: chipID, PairID: pair, MaxChunks: testMaxChunks,
			Config: Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}}))
		return readBytes(t, o, testStoreOff, 4096)
	}
	want := &Identity{ChipID: 1, PairID: 42}
	for _, tt := range []struct {
		name   string
		copy   int64
		sb     []byte
		expect *Identity
		used   Identity // zero: Open refuses
	}{
		{name: "another pair on copy 0", copy: 0, sb: foreign(1, 43), expect: want, used: Identity{ChipID: 1, PairID: 42, Version: FormatVersion}},
		{name: "another pair on copy 1", copy: 1, sb: foreign(1, 43), expect: want, used: Identity{ChipID: 1, PairID: 42, Version: FormatVersion}},
		{name: "the other chip on copy 0", copy: 0, sb: foreign(0, 42), expect: want, used: Identity{ChipID: 1, PairID: 42, Version: FormatVersion}},
		{name: "another pair on copy 0, no Expect", copy: 0, sb: foreign(1, 43), used: Identity{ChipID: 1, PairID: 43, Version: FormatVersion}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newChip(t)
			formatTest(t, f)
			require.NoError(t, f.Erase(testStoreOff+tt.copy*4096, 4096))
			_, err := f.WriteAt(tt.sb, testStoreOff+tt.copy*4096)
			require.NoError(t, err)
			ro := openTest(t, f, Options{ReadOnly: true, Expect: tt.expect})
			require.Equal(t, tt.used, ro.Identity())
			require.NotEmpty(t, ro.Damage(), "the differing copy is damage")
			if tt.expect == nil {
				return
			}
			require.Contains(t, ro.Damage()[0], "is another store's")
			rw := openTest(t, f, Options{Expect: tt.expect})
			rw.Release()
			again := openTest(t, f, Options{ReadOnly: true})
			require.Empty(t, again.Damage(), "the overwritten copy was rewritten")
			require.Equal(t, tt.used, again.Identity())
		})
	}

	// Both copies another pair's: refused as before.
	f := newChip(t)
	formatTest(t, f)
	for c := int64(0); c < 2; c++ {
		require.NoError(t, f.Erase(testStoreOff+c*4096, 4096))
		_, err := f.WriteAt(foreign(1, 43), testStoreOff+c*4096)
		require.NoError(t, err)
	}
	_, err := Open(f, testStoreOff, testStoreSize, Options{Expect: want})
	require.ErrorIs(t, err, ErrForeignPair)
}
