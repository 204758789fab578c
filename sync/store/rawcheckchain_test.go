package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRawCheckRefusesADeltaOnAFullChain: an intent's delta entry for a
// chunk whose committed chain already holds chainLimit records is refused
// as corrupt, the message numbering the delta it would be (limit+1); one
// on a chain a record shorter is taken.
func TestRawCheckRefusesADeltaOnAFullChain(t *testing.T) {
	const limit = 4
	chain := make([]DeltaRef, limit)
	committed := []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0, Deltas: chain}, {Block: 1, Deltas: chain[:limit-1]}}}}
	in := &intent{types: []TypeState{{Type: 1}}, chunkCounts: []int{2}}
	c := newRawCheck(in, committed, false)
	require.NotNil(t, c)
	require.NoError(t, c.delta(in, committed, 1, 1, limit))
	err := c.delta(in, committed, 1, 0, limit)
	require.ErrorIs(t, err, ErrCorrupt)
	require.EqualError(t, err, ErrCorrupt.Error()+": intent writes delta 5 of chunk 0 of type 1, at most 4 are allowed")
}

// TestRawCheckRefusesADeltaBeyondTheChunkCount: a delta entry for a chunk
// index at or past the type's new chunk count is refused as corrupt, the
// message saying so ("beyond its N chunks"), even where the committed map
// held that chunk (it is not kept: the type shrank); the last chunk of the
// new count is taken.
func TestRawCheckRefusesADeltaBeyondTheChunkCount(t *testing.T) {
	committed := []TypeState{{Type: 1, Chunks: []Chunk{{Block: 0}, {Block: 1}, {Block: 2}, {Block: 3}}}}
	for _, x := range []uint32{2, 3} {
		in := &intent{types: []TypeState{{Type: 1}}, chunkCounts: []int{2}}
		c := newRawCheck(in, committed, false)
		require.NotNil(t, c)
		require.NoError(t, c.delta(in, committed, 1, 1, 4))
		err := c.delta(in, committed, 1, x, 4)
		require.ErrorIs(t, err, ErrCorrupt)
		require.EqualError(t, err, fmt.Sprintf("%s: intent writes a delta of chunk %d of type 1 beyond its 2 chunks", ErrCorrupt, x))
	}
}
