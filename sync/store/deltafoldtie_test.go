package store

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDeltaBudgetFoldsTheLowestOfEqualBlocks: when a round would take the
// committed delta blocks past the budget and several of them hold equally
// few chunks (here one each), the one with the lowest block number is
// released, deterministically: its chunk is written whole, every other
// chain stays, the round's own change goes as a delta.
func TestDeltaBudgetFoldsTheLowestOfEqualBlocks(t *testing.T) {
	f, s := newStore(t)
	budget := s.deltaBudget()
	require.Positive(t, budget)
	ps := payloads{1: randomBytes(1, (budget+4)*4096)}
	deltaRound(t, s, 1, ps)
	g := uint64(2)
	for i := range budget { // one delta block per round, a chunk each
		ps[1][(i+1)*4096+5] ^= 0x55
		full, dblocks, _ := deltaRound(t, s, g, ps)
		require.Zero(t, full, "generation %d", g)
		require.Equal(t, 1, dblocks, "generation %d", g)
		g++
	}
	// Every committed delta block holds the chain of one chunk.
	chunkOf := map[uint32]int{}
	ts, _ := s.StateRef().Type(1)
	for i, c := range ts.Chunks {
		for _, d := range c.Deltas {
			_, seen := chunkOf[d.Block]
			require.False(t, seen, "block %d holds two chains", d.Block)
			chunkOf[d.Block] = i
		}
	}
	require.Len(t, chunkOf, budget)
	blocks := make([]uint32, 0, len(chunkOf))
	for b := range chunkOf {
		blocks = append(blocks, b)
	}
	lowest := slices.Min(blocks)
	folded := chunkOf[lowest]
	require.NotEqual(t, chunkOf[slices.Max(blocks)], folded)

	// One more chunk changes: one delta block over a full budget.
	changed := budget + 1
	ps[1][changed*4096+9] ^= 0x22
	r, err := s.Begin(deltaPlanOf(g, ps))
	require.NoError(t, err)
	var whole []int
	dblocks := 0
	for _, w := range r.Writes() {
		if w.Type == DeltaBlockType {
			dblocks++
		} else {
			whole = append(whole, w.Index)
		}
	}
	require.Equal(t, []int{folded}, whole, "the chunk of the lowest delta block (%d) folds", lowest)
	require.Equal(t, 1, dblocks)
	writeAndCommit(t, r, g, ps)
	ts, _ = s.StateRef().Type(1)
	require.Empty(t, ts.Chunks[folded].Deltas)
	require.Len(t, ts.Chunks[changed].Deltas, 1)
	for b, i := range chunkOf {
		if b != lowest {
			require.Len(t, ts.Chunks[i].Deltas, 1, "chunk %d", i)
			require.Equal(t, b, ts.Chunks[i].Deltas[0].Block, "chunk %d", i)
		}
	}
	checkPayloads(t, s, ps)
	requireReopens(t, f, s, ps)
}
