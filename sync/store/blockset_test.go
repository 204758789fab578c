package store

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBlockSet: the bit set agrees with a map-based set over random
// operations, and firstClear with a linear search.
func TestBlockSet(t *testing.T) {
	const seed = 5
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for iter := range 300 {
		n := 1 + rng.IntN(300)
		s := newBlockSet(n)
		ref := make([]bool, n)
		for range rng.IntN(50) {
			b := uint32(rng.IntN(n))
			switch rng.IntN(4) {
			case 0:
				s.add(b)
				ref[b] = true
			case 1:
				s.remove(b)
				ref[b] = false
			case 2:
				hi := b + uint32(rng.IntN(n-int(b)+1))
				s.addRange(b, hi)
				for k := b; k < hi; k++ {
					ref[k] = true
				}
			case 3:
				o := newBlockSet(n)
				c := uint32(rng.IntN(n))
				o.add(c)
				s.andNot(o)
				ref[c] = false
			}
		}
		var want []uint32
		for b := range ref {
			require.Equal(t, ref[b], s.has(uint32(b)), "iteration %d (seed %d) block %d", iter, seed, b)
			if ref[b] {
				want = append(want, uint32(b))
			}
		}
		if want == nil {
			want = []uint32{}
		}
		require.Equal(t, want, s.members(), "iteration %d (seed %d)", iter, seed)
		for range 20 {
			lo := rng.IntN(n + 1)
			hi := lo + rng.IntN(n-lo+1)
			wantClear := -1
			for k := lo; k < hi; k++ {
				if !ref[k] {
					wantClear = k
					break
				}
			}
			require.Equal(t, wantClear, firstClear(s, lo, hi), "iteration %d (seed %d): firstClear(%d, %d)", iter, seed, lo, hi)
		}
	}
}
