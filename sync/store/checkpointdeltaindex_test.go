package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckpointDeltaOfAChunkPastTheEnd: a checkpoint-deltas record whose
// entry names a chunk the checkpoint's chunk records did not give (the
// index equal to the type's chunk count or above it, or a type it does not
// hold) is refused as corrupt, not applied (an index equal to the count is
// the boundary: one past the last chunk); an entry of the last chunk is
// taken.
func TestCheckpointDeltaOfAChunkPastTheEnd(t *testing.T) {
	_, s := newStore(t)
	n := deltaMinLen(s.layout.Version)
	ref := []DeltaRef{{Block: 5, Len: n}}
	for _, tc := range []struct {
		name    string
		typ     uint8
		idx     int // the chunk the record names; the state holds chunks 0 and 1 of type 1
		wantErr string
	}{
		{"the last chunk", 1, 1, ""},
		{"one past the last chunk", 1, 2, "checkpoint delta of type 1 chunk 2, which it does not hold"},
		{"two past the last chunk", 1, 3, "checkpoint delta of type 1 chunk 3, which it does not hold"},
		{"a type it does not hold", 2, 0, "checkpoint delta of type 2 chunk 0, which it does not hold"},
	} {
		// The record is encoded from a state holding the named chunk.
		chunks := make([]Chunk, max(tc.idx+1, 2))
		for i := range chunks {
			chunks[i].Block = uint32(i)
		}
		chunks[tc.idx].Deltas = ref
		bodies := checkpointDeltaBodies(s.layout.EraseSize, 3, &State{Types: []TypeState{{Type: tc.typ, Chunks: chunks}}})
		require.Len(t, bodies, 1, tc.name)
		into := State{Types: []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0}, {Block: 1}}}}}
		nb := int(s.layout.DataBlocks)
		bases, deltaBlocks := newBlockSet(nb), newBlockSet(nb)
		bases.add(0)
		bases.add(1)
		var err error
		require.NotPanics(t, func() {
			err = s.checkpointDeltas(record{body: bodies[0]}, 3, &into, bases, deltaBlocks)
		}, tc.name)
		if tc.wantErr == "" {
			require.NoError(t, err, tc.name)
			require.Equal(t, ref, into.Types[0].Chunks[1].Deltas, tc.name)
			continue
		}
		require.ErrorIs(t, err, ErrCorrupt, tc.name)
		require.EqualError(t, err, fmt.Sprintf("%v: %s", ErrCorrupt, tc.wantErr), tc.name)
		require.Empty(t, into.Types[0].Chunks[0].Deltas, tc.name)
		require.Empty(t, into.Types[0].Chunks[1].Deltas, tc.name)
	}
}
