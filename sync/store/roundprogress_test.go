package store

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRoundProgress checks a round's counters through its life: the
// generation it will commit, the blocks its intent names (its writes'
// and spares), Remaining after
// each write (a chunk written twice counts once), Write's index bounds and
// chunk size, and Commit refusing a round with chunks left.
func TestRoundProgress(t *testing.T) {
	f, s := newStore(t)
	ps := payloads{1: randomBytes(1, 3*4096-testPhase), 2: randomBytes(2, 100)}
	r, err := s.Begin(planOf(1, ps))
	require.NoError(t, err)
	require.Equal(t, uint64(1), r.Generation())
	ws := r.Writes()
	require.Len(t, ws, 4) // three chunks of type 1, one of type 2
	require.Equal(t, 4, r.Remaining())
	var want []uint32
	for _, w := range ws {
		want = append(want, w.Block)
	}
	got := r.Blocks()
	require.Subset(t, got, want, "the intent names the blocks of its writes (and its spares)")
	slices.Sort(got)
	require.Len(t, slices.Compact(slices.Clone(got)), len(got), "no block twice")

	chunk := func(i int) []byte {
		w := ws[i]
		lo, hi := ChunkBounds(int64(len(ps[w.Type])), testPhase, 4096, w.Index)
		return ps[w.Type][lo:hi]
	}
	for _, bad := range []int{-1, len(ws)} {
		_, _, err := r.Write(bad, chunk(0))
		require.EqualError(t, err, "chunk write "+itoa(bad)+" out of range or round finished")
	}
	_, _, err = r.Write(0, make([]byte, 4097))
	require.EqualError(t, err, "chunk of 4097 bytes exceeds the chunk size 4096")
	require.Equal(t, 4, r.Remaining(), "a refused write counts nothing")

	_, _, err = r.Write(0, chunk(0))
	require.NoError(t, err)
	require.Equal(t, 3, r.Remaining())
	_, _, err = r.Write(0, chunk(0))
	require.NoError(t, err)
	require.Equal(t, 3, r.Remaining(), "a chunk written again counts once")
	require.EqualError(t, r.Commit(State{Generation: 1}), "commit with 1 of 4 chunks written")
	for i := 1; i < len(ws); i++ {
		_, _, err = r.Write(i, chunk(i))
		require.NoError(t, err)
		require.Equal(t, len(ws)-1-i, r.Remaining())
	}
	require.NoError(t, r.Commit(State{Generation: 1, Time: time.Unix(1, 0).UTC(), Config: planOf(1, ps).Config}))
	require.EqualError(t, r.Commit(State{Generation: 1}), "round already finished")
	_, _, err = r.Write(0, chunk(0))
	require.EqualError(t, err, "chunk write 0 out of range or round finished")
	requireReopens(t, f, s, ps)

	// A round with nothing to write has no intent.
	r, err = s.Begin(planOf(2, ps))
	require.NoError(t, err)
	require.Zero(t, r.Remaining())
	require.Empty(t, r.Writes())
	require.Nil(t, r.Blocks())
	require.Zero(t, r.Generation())
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
