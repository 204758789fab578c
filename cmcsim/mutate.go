package cmcsim

import (
	"bytes"
	"fmt"
	"math"

	"github.com/cmcsync/cmcsync/sync/info"
)

// Mutate applies a synthetic change set for benchmarks: it changes
// round(fraction × total payload bytes) bytes of the region's payloads
// (capped at the bytes outside the payload headers), as contiguous runs of
// 256 B to 16 KiB when clustered or as single bytes spread uniformly when
// not, then writes every changed type back (Region.Rewrite), so every
// record stays valid (its framing header untouched, its CRC recomputed).
// The values of the changed bytes are synthetic (each byte is XORed with a
// random non-zero value), so field contents such as FRU checksums are no
// longer meaningful. It returns the number of bytes changed. fraction must be
// in [0, 1]. Now does not advance.
func (g *Generator) Mutate(r *info.Region, fraction float64, clustered bool) (changedBytes int64, err error) {
	if !(fraction >= 0 && fraction <= 1) {
		return 0, fmt.Errorf("mutate: fraction %v is not in [0, 1]", fraction)
	}
	type seg struct {
		typ     info.Type
		payload []byte      // a copy of prev.Payload, changed in place
		start   int64       // index of payload[info.PayloadHeaderSize] in the mutable space
		prev    info.Record // what the chip holds, for Region.Rewrite
	}
	var segs []seg
	var total, mutable int64
	for _, t := range info.All() {
		rec, err := r.Read(t)
		if err != nil {
			return 0, fmt.Errorf("mutate: %w", err)
		}
		total += int64(len(rec.Payload))
		if len(rec.Payload) <= info.PayloadHeaderSize {
			continue
		}
		segs = append(segs, seg{typ: t, payload: bytes.Clone(rec.Payload), start: mutable, prev: rec})
		mutable += int64(len(rec.Payload) - info.PayloadHeaderSize)
	}
	target := min(int64(math.Round(fraction*float64(total))), mutable)
	if target == 0 {
		return 0, nil
	}
	// byteAt maps a mutable-space index to its byte.
	byteAt := func(i int64) *byte {
		k := len(segs) - 1
		for k > 0 && segs[k].start > i {
			k--
		}
		return &segs[k].payload[info.PayloadHeaderSize+int(i-segs[k].start)]
	}
	flip := func(i int64) { *byteAt(i) ^= byte(1 + g.rng.IntN(255)) }
	touched := make(map[info.Type]bool)
	touch := func(lo, hi int64) { // marks the types covering [lo, hi)
		for _, s := range segs {
			if s.start < hi && lo < s.start+int64(len(s.payload)-info.PayloadHeaderSize) {
				touched[s.typ] = true
			}
		}
	}
	if clustered {
		done := make([]uint64, (mutable+63)/64)
		isSet := func(i int64) bool { return done[i/64]&(1<<(i%64)) != 0 }
		var n int64
		for tries := 0; n < target && tries < 1<<20; tries++ {
			run := min(int64(256+g.rng.IntN(16<<10-256+1)), target-n)
			lo := g.rng.Int64N(mutable)
			hi := min(lo+run, mutable)
			for i := lo; i < hi && n < target; i++ {
				if !isSet(i) {
					done[i/64] |= 1 << (i % 64)
					flip(i)
					n++
				}
			}
			touch(lo, hi)
		}
		for i := int64(0); n < target && i < mutable; i++ { // dense leftovers
			if !isSet(i) {
				done[i/64] |= 1 << (i % 64)
				flip(i)
				touch(i, i+1)
				n++
			}
		}
		changedBytes = n
	} else if target*8 < mutable {
		// Sparse: draw positions, redrawing the few that repeat.
		done := make([]uint64, (mutable+63)/64)
		for n := int64(0); n < target; {
			i := g.rng.Int64N(mutable)
			if done[i/64]&(1<<(i%64)) != 0 {
				continue
			}
			done[i/64] |= 1 << (i % 64)
			flip(i)
			touch(i, i+1)
			n++
		}
		changedBytes = target
	} else {
		// Dense: selection sampling (Knuth's algorithm S), exactly target of mutable.
		need := target
		for i := int64(0); i < mutable && need > 0; i++ {
			if g.rng.Int64N(mutable-i) < need {
				flip(i)
				touch(i, i+1)
				need--
			}
		}
		changedBytes = target
	}
	for _, s := range segs {
		if touched[s.typ] {
			if err := r.Rewrite(s.prev, s.payload); err != nil {
				return changedBytes, fmt.Errorf("mutate: %w", err)
			}
		}
	}
	return changedBytes, nil
}
