package store

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRoundCountsAReplacedCommitOnce: a chunk's contents noted twice for
// the base cache in one round (noteCommitted) count once, at the later
// size: 3000 bytes replaced by 1000 leave 1000 counted, and the round
// keeps the later bytes for the commit.
func TestRoundCountsAReplacedCommitOnce(t *testing.T) {
	_, s := newStore(t)
	ps := payloads{1: randomBytes(1, 20_000)}
	deltaRound(t, s, 1, ps)
	require.True(t, s.deltasUsable())
	ps[1][5000] ^= 1
	r, err := s.Begin(deltaPlanOf(2, ps))
	require.NoError(t, err)
	before := r.commitBytes
	r.noteCommitted(2, 7, randomBytes(7, 3000), true)
	require.Equal(t, before+3000, r.commitBytes)
	later := randomBytes(8, 1000)
	r.noteCommitted(2, 7, later, true)
	require.Equal(t, before+1000, r.commitBytes)
	require.Equal(t, later, r.commits[[2]uint32{2, 7}])
}
