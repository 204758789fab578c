package store

import (
	"testing"

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
