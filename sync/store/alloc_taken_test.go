package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWindowHoldingATakenSpareIsSkipped: a round first takes an erased
// spare that lies inside a wholly free erase window, then needs whole
// windows for its other chunks; the window holding the spare it already
// took must be skipped (else two entries name one block and the round is
// refused as full). The round commits, its chunks and spares sit in
// distinct blocks, and the state verifies, also after a reopen.
func TestWindowHoldingATakenSpareIsSkipped(t *testing.T) {
	f, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 100000)})
	group := s.windowBlocks()
	require.Equal(t, uint32(16), group)
	w, ok := s.nextFreeWindow(s.cursor, group, 16, nil)
	require.True(t, ok)
	require.True(t, s.windowFree(w+group, group), "the next window must be free too")
	// Only block w+3 is known erased (nothing is blank), the cursor has
	// gone round once (so erased blocks anywhere are used first) and
	// stands at w: the first free window from the cursor is the one
	// holding the spare the round takes first.
	spare := w + 3
	for b := range s.layout.DataBlocks {
		s.erased.remove(b)
		s.blank.remove(b)
	}
	require.NoError(t, f.Erase(s.BlockOffset(spare), 4096))
	s.erased.add(spare)
	s.cursor, s.wraps = w, 1
	ps := payloads{1: randomBytes(2, 100000)}
	runRound(t, s, 2, ps)
	seen := map[uint32]bool{}
	for _, ts := range s.committed.Types {
		for _, c := range ts.Chunks {
			require.False(t, seen[c.Block], "two chunks in block %d", c.Block)
			seen[c.Block] = true
		}
	}
	require.True(t, seen[spare], "the erased spare was not used")
	require.False(t, seen[w], "the window holding the taken spare was used")
	checkPayloads(t, s, ps)
	require.Empty(t, s.VerifyChunks())
	s = openTest(t, f, Options{})
	require.Equal(t, uint64(2), s.State().Generation)
	checkPayloads(t, s, ps)
	require.Empty(t, s.VerifyChunks())
}

// TestFreeWindowJustBeforeTheCursorIsFound: the search for a free erase
// window goes once round the data area from the cursor, so the window that
// starts one block before the cursor is the last it looks at; when every
// other window holds a taken block, that is the one it returns.
func TestFreeWindowJustBeforeTheCursorIsFound(t *testing.T) {
	_, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 10000)})
	group := s.windowBlocks()
	w, ok := s.nextFreeWindow(s.cursor, group, int(group), nil)
	require.True(t, ok)
	taken := map[uint32]bool{}
	for b := range s.layout.DataBlocks {
		if b < w || b >= w+group {
			taken[b] = true
		}
	}
	got, ok := s.nextFreeWindow(w+1, group, int(group), taken)
	require.True(t, ok, "the only free window starts one block before the cursor (%d)", w)
	require.Equal(t, w, got)
}

// TestWindowFreeLooksAtItsOwnBlocksOnly: a window is free when its own
// blocks are, whatever the block just past it holds.
func TestWindowFreeLooksAtItsOwnBlocksOnly(t *testing.T) {
	_, s := newStore(t)
	runRound(t, s, 1, payloads{1: randomBytes(1, 10000)})
	group := s.windowBlocks()
	w, ok := s.nextFreeWindow(s.cursor, group, int(group), nil)
	require.True(t, ok)
	require.True(t, s.windowFree(w, group))
	s.retired = map[uint32]bool{w + group: true}
	require.True(t, s.windowFree(w, group), "the block after the window is not the window's")
	s.retired = map[uint32]bool{w + group - 1: true}
	require.False(t, s.windowFree(w, group), "the window's last block is retired")
}
