package reference

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeltaChainLimitByVersion: a checkpoint may give a chunk at most 8
// delta records in a format version 3 store and at most 32 from version 4
// on (docs/FORMAT.md, 4.14 Deltas).
func TestDeltaChainLimitByVersion(t *testing.T) {
	body := func(n int) []byte {
		w := (&enc{}).u64(3).u16(uint16(n))
		for k := range n {
			w.u8(1).u32(0).u32(1).u32(uint32(k * deltaMinLen)).u32(deltaMinLen)
		}
		return w.buf
	}
	tests := []struct {
		version uint32
		records int
		ok      bool
	}{
		{3, 8, true}, {3, 9, false}, {4, 9, true}, {4, 32, true}, {4, 33, false},
	}
	for _, tc := range tests {
		sb := &Superblock{FormatVersion: tc.version, EraseSize: 4096, DataBlocks: 10}
		cf := &chunkFill{sb: sb, used: map[uint32]bool{0: true},
			types: []TypeState{{TypeMeta: TypeMeta{Type: 1}, Chunks: []Chunk{{Block: 0}}}}}
		err := cf.deltasRecord(body(tc.records), 3)
		if tc.ok {
			require.NoError(t, err, "version %d, %d records", tc.version, tc.records)
			require.Len(t, cf.types[0].Chunks[0].Deltas, tc.records)
		} else {
			require.ErrorContains(t, err, "more than", "version %d, %d records", tc.version, tc.records)
		}
	}
}
