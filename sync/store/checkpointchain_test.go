package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckpointDeltaChainAtItsLimit: a checkpoint-deltas record may give
// a chunk as many delta records as the format version allows
// (deltaChainLimit: 8 in version 3, 32 from version 4), not one more: the
// chain of limit+1 is refused as corrupt, naming the chunk and the limit,
// and nothing is added to deltaBlocks past the refused entry.
func TestCheckpointDeltaChainAtItsLimit(t *testing.T) {
	_, s := newStore(t)
	require.Greater(t, s.layout.Version, uint32(chainVersion))
	require.Equal(t, uint32(deltaVersion+1), uint32(chainVersion))
	for _, tc := range []struct {
		version uint32
		limit   int
	}{
		{deltaVersion, 8},
		{chainVersion, 32}, // the first version of the longer chains
		{s.layout.Version, 32},
	} {
		s.layout.Version = tc.version
		require.Equal(t, tc.limit, deltaChainLimit(tc.version))
		n := deltaMinLen(tc.version)
		for _, deltas := range []int{tc.limit - 1, tc.limit, tc.limit + 1} {
			name := fmt.Sprintf("version %d, %d deltas", tc.version, deltas)
			refs := make([]DeltaRef, deltas)
			for i := range refs {
				refs[i] = DeltaRef{Block: 5 + uint32(i)%2, Off: uint32(i/2) * n, Len: n}
			}
			st := State{Types: []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0}, {Block: 1, Deltas: refs}}}}}
			bodies := checkpointDeltaBodies(s.layout.EraseSize, 3, &st)
			require.Len(t, bodies, 1, name)
			into := State{Types: []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0}, {Block: 1}}}}}
			nb := int(s.layout.DataBlocks)
			bases, deltaBlocks := newBlockSet(nb), newBlockSet(nb)
			bases.add(0)
			bases.add(1)
			err := s.checkpointDeltas(record{body: bodies[0]}, 3, &into, bases, deltaBlocks)
			if deltas <= tc.limit {
				require.NoError(t, err, name)
				require.Equal(t, refs, into.Types[0].Chunks[1].Deltas, name)
				require.Empty(t, into.Types[0].Chunks[0].Deltas, name)
			} else {
				require.ErrorIs(t, err, ErrCorrupt, name)
				require.EqualError(t, err, fmt.Sprintf("%v: checkpoint gives type 1 chunk 1 more than %d deltas", ErrCorrupt, tc.limit), name)
				require.Equal(t, refs[:tc.limit], into.Types[0].Chunks[1].Deltas, name)
			}
			require.True(t, deltaBlocks.has(5) && deltaBlocks.has(6), name)
		}
	}
}
