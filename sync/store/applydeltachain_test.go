package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestApplyIntentRefusesADeltaPastTheChainLimit: applyIntent (the general
// path of an intent's commit, applyIntentDecoded's) takes a delta entry for
// a chunk whose committed chain holds one record fewer than the format
// version's limit, and refuses one for a chunk whose chain is full as
// corrupt, the message numbering the delta it would be (limit+1).
func TestApplyIntentRefusesADeltaPastTheChainLimit(t *testing.T) {
	for _, version := range []uint32{deltaVersion, chainVersion, FormatVersion} {
		limit := deltaChainLimit(version)
		for _, have := range []int{limit - 1, limit} {
			name := fmt.Sprintf("version %d, a chain of %d of %d", version, have, limit)
			chain := make([]DeltaRef, have)
			for i := range chain {
				chain[i] = DeltaRef{Block: 7, Off: uint32(i) * 64, Len: 64}
			}
			s := &Store{
				layout:    Superblock{Version: version},
				opts:      Options{TrustRecords: true}, // no payload digest to make up
				committed: State{Types: []TypeState{{Type: 1, Size: 2, Chunks: []Chunk{{Block: 0, Deltas: chain}, {Block: 1}}}}},
			}
			in := &intent{
				types:       []TypeState{{Type: 1, Size: 2}},
				chunkCounts: []int{2},
				deltas:      []deltaBlock{{block: 8, entries: []deltaEntry{{Type: 1, Index: 0, Off: 0, Len: 64, Check: 9}}}},
			}
			types, err := s.applyIntent(in)
			if have < limit {
				require.NoError(t, err, name)
				require.Len(t, types, 1, name)
				require.Len(t, types[0].Chunks[0].Deltas, limit, name)
				require.Equal(t, DeltaRef{Block: 8, Len: 64}, types[0].Chunks[0].Deltas[limit-1], name)
				continue
			}
			require.ErrorIs(t, err, ErrCorrupt, name)
			require.EqualError(t, err, fmt.Sprintf("%v: intent writes delta %d of chunk 0 of type 1, at most %d are allowed", ErrCorrupt, limit+1, limit), name)
			require.Len(t, s.committed.Types[0].Chunks[0].Deltas, limit, name)
		}
	}
}
