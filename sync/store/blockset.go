package store

import "math/bits"

// blockSet is a set of data blocks, one bit per block: the store's
// per-block flags (live, known erased). Indices must be below the number
// of blocks it was made for.
type blockSet []uint64

// newBlockSet returns an empty set for n blocks.
func newBlockSet(n int) blockSet { return make(blockSet, (n+63)/64) }

func (s blockSet) has(b uint32) bool { return s[b>>6]&(1<<(b&63)) != 0 }
func (s blockSet) add(b uint32)      { s[b>>6] |= 1 << (b & 63) }
func (s blockSet) remove(b uint32)   { s[b>>6] &^= 1 << (b & 63) }

// addRange adds blocks lo..hi-1.
func (s blockSet) addRange(lo, hi uint32) {
	if lo >= hi {
		return
	}
	for lo < hi && lo&63 != 0 {
		s.add(lo)
		lo++
	}
	for ; lo+64 <= hi; lo += 64 {
		s[lo>>6] = ^uint64(0)
	}
	for ; lo < hi; lo++ {
		s.add(lo)
	}
}

// andNot removes the blocks of o from s.
func (s blockSet) andNot(o blockSet) {
	for i := range s {
		s[i] &^= o[i]
	}
}

// members returns the blocks in s, in increasing order.
func (s blockSet) members() []uint32 {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	out := make([]uint32, 0, n)
	for i, w := range s {
		for w != 0 {
			out = append(out, uint32(i*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return out
}

// or adds the members of o to s (of the same size).
func (s blockSet) or(o blockSet) {
	for i := range s {
		s[i] |= o[i]
	}
}
