package faults

import (
	"errors"
	"fmt"
	"slices"
)

// ForgeSameCheck changes b in place: byte at is XORed with 0x5A, and
// some bits of the 16 bytes from at+64 are flipped so that check(b) stays
// what it was — a change of the bytes that a check of them cannot see, as
// a writer behind a change table's back (or a CRC collision) makes. check
// must be affine over GF(2) in its input for a fixed length (a CRC, or
// two CRCs side by side, as sync/info's BlockCheck); the flips are the
// solution of that linear system. b must hold at least at+80 bytes. It
// fails, leaving b unchanged, when the 128 bits cannot cancel the change
// (a check wider than 128 bits, or one that is not affine).
func ForgeSameCheck(b []byte, at int, check func([]byte) uint64) error {
	if at < 0 || at+80 > len(b) {
		return fmt.Errorf("forge same check: a block of %d bytes is too short to forge at %d", len(b), at)
	}
	zero := check(make([]byte, len(b)))
	lin := func(d []byte) uint64 { return check(d) ^ zero }
	d := make([]byte, len(b))
	d[at] = 0x5A
	target := lin(d)
	// A basis (reduced, highest leading bit first) of the flips of the
	// 128 bits in bytes at+64 .. at+79.
	type vec struct {
		v    uint64
		bits []int
	}
	var basis []vec
	for bit := range 128 {
		x := make([]byte, len(b))
		x[at+64+bit/8] = 1 << (bit % 8)
		cur := vec{lin(x), []int{bit}}
		for _, bv := range basis {
			if cur.v^bv.v < cur.v {
				cur.v ^= bv.v
				cur.bits = xorSet(cur.bits, bv.bits)
			}
		}
		if cur.v != 0 {
			basis = append(basis, cur)
			slices.SortFunc(basis, func(a, b vec) int {
				switch {
				case a.v > b.v:
					return -1
				case a.v < b.v:
					return 1
				}
				return 0
			})
		}
	}
	var flips []int
	for _, bv := range basis {
		if target^bv.v < target {
			target ^= bv.v
			flips = xorSet(flips, bv.bits)
		}
	}
	if target != 0 {
		return errors.New("forge same check: the flips do not span the check")
	}
	before := check(b)
	b[at] ^= 0x5A
	for _, bit := range flips {
		b[at+64+bit/8] ^= 1 << (bit % 8)
	}
	if check(b) != before {
		// Not affine after all: put b back.
		b[at] ^= 0x5A
		for _, bit := range flips {
			b[at+64+bit/8] ^= 1 << (bit % 8)
		}
		return errors.New("forge same check: the forged bytes changed the check (not affine)")
	}
	return nil
}

// xorSet returns the symmetric difference of a and b.
func xorSet(a, b []int) []int {
	out := slices.Clone(a)
	for _, x := range b {
		if i := slices.Index(out, x); i >= 0 {
			out = slices.Delete(out, i, i+1)
		} else {
			out = append(out, x)
		}
	}
	return out
}
