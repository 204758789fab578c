package store

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestApplyIntentOwnedEqualsApplyIntent: the replay's in-place commit gives
// the same types, or the same error, as the copying one, and leaves the
// state untouched on error; over random intents, well formed and not.
func TestApplyIntentOwnedEqualsApplyIntent(t *testing.T) {
	const seed = 11
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	mkState := func() []TypeState {
		var ts []TypeState
		for _, ty := range []uint8{1, 2, 4} {
			n := rng.IntN(6)
			c := make([]Chunk, n, n+rng.IntN(3))
			for i := range c {
				c[i] = Chunk{Block: uint32(100*int(ty) + i), Check: uint64(i)}
			}
			ts = append(ts, TypeState{Type: ty, Size: int64(n), Chunks: c})
		}
		return ts
	}
	for iter := range 3000 {
		base := mkState()
		in := &intent{}
		for _, ty := range []uint8{1, 3, 4} {
			if rng.IntN(2) == 0 {
				in.types = append(in.types, TypeState{Type: ty, Size: int64(rng.IntN(9))})
				in.nchunks = append(in.nchunks, rng.IntN(7))
			}
		}
		if rng.IntN(20) == 0 && len(in.types) > 0 { // a type listed twice
			in.types = append(in.types, in.types[0])
			in.nchunks = append(in.nchunks, rng.IntN(7))
		}
		for range rng.IntN(12) {
			ty := []uint8{SpareType, 1, 2, 3, 4}[rng.IntN(5)]
			in.entries = append(in.entries, IntentEntry{Type: ty, Index: uint32(rng.IntN(8)), Block: uint32(1000 + rng.IntN(100)), Check: rng.Uint64()})
		}
		cp := func(ts []TypeState) []TypeState {
			out := make([]TypeState, len(ts))
			for i := range ts {
				out[i] = ts[i].clone()
			}
			return out
		}
		s1 := &Store{st: State{Types: cp(base)}}
		s2 := &Store{st: State{Types: cp(base)}}
		want, werr := s1.applyIntent(in)
		got, gerr := s2.applyIntentOwned(in)
		if werr != nil {
			require.EqualError(t, gerr, werr.Error(), "iteration %d (seed %d)", iter, seed)
			require.Equal(t, base, s2.st.Types, "iteration %d: state changed on error", iter)
			continue
		}
		require.NoError(t, gerr, "iteration %d (seed %d)", iter, seed)
		require.Equal(t, want, got, "iteration %d (seed %d)", iter, seed)
	}
}
