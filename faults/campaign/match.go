package campaign

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/info"
)

// matchKey names one comparison of a view's committed generation with a
// generation: the view, the generation (by contents, and which of the
// bench's it is: matchType takes the other one as the source of a mix)
// and a hash of the referenced blocks written since the base. It holds no
// pointer, so that the memo keeps nothing else alive.
type matchKey struct {
	view       uint64 // storeView.id
	generation uint64 // generation.contentPrint
	role       uint8  // 1: the bench's prevGen, 2: its roundGen, 0: another
	blocksHash uint64
}

// maxMatchMemo bounds a worker's matchMemo; beyond it the memo starts
// afresh.
const maxMatchMemo = 1 << 12

// mismatch is one way a committed generation differs from a generation.
type mismatch struct {
	what string
	// block is the chip offset of the data block whose chunk does not
	// hold the generation's bytes (-1 if the difference is not a chunk's
	// bytes); deltas, those of the data blocks holding the delta records
	// applied to it (the chunk's bytes come from all of them); mix: it
	// holds the other generation's bytes.
	block  int64
	deltas []int64
	mix    bool
}

// blocks returns the chip offsets of every data block m's chunk's bytes
// come from: its block and its delta records' blocks.
func (m mismatch) blocks() []int64 {
	return append([]int64{m.block}, m.deltas...)
}

// listMismatches lists mismatches (at most three, then how many more).
func listMismatches(ms []mismatch) string {
	var s []string
	for i, m := range ms {
		if i == 3 {
			s = append(s, fmt.Sprintf("and %d more", len(ms)-3))
			break
		}
		s = append(s, m.what)
	}
	return strings.Join(s, "; ")
}

// matches reports how the committed generation in v, the store on chip,
// differs from g (nil if it holds exactly g's payloads).
func (w *worker) matches(chip int, v *storeView, g *generation) []mismatch {
	// The answer depends on the view, the generation and the contents of
	// the blocks it references; referenced blocks not written since the
	// base hold the base contents, so the key needs only the written ones.
	refs := v.refs()
	var blocks []int64
	for k := range w.touched {
		if c, off := splitTouchKey(k); c == chip && refs[off] {
			blocks = append(blocks, k)
		}
	}
	slices.Sort(blocks)
	var h maphash.Hash
	h.SetSeed(hashSeed)
	w.hashBlocks(&h, blocks, false)
	var role uint8
	switch g {
	case w.bench.prevGen:
		role = 1
	case w.bench.roundGen:
		role = 2
	}
	key := matchKey{v.id, g.contentPrint(), role, h.Sum64()}
	if m, ok := w.matchMemo[key]; ok {
		return m
	}
	var m []mismatch
	for _, t := range w.bench.scenario.Types {
		m = append(m, w.matchType(chip, v, g, t)...)
	}
	if len(w.matchMemo) >= maxMatchMemo {
		clear(w.matchMemo)
	}
	w.matchMemo[key] = m
	return m
}

// deltaPrint returns the fingerprint of chunk i of type t (c, n bytes),
// committed as a delta: its base block's bytes with the delta record
// records applied in order (reference.ApplyDelta). A record that does not apply is an
// error: the chunk holds neither generation.
func (w *worker) deltaPrint(chip int, v *storeView, t uint8, i int, c reference.Chunk, n int64) (uint64, error) {
	p := make([]byte, n)
	if _, err := w.chips[chip].ReadAt(p, v.blockOffset(c.Block)); err != nil {
		return 0, err
	}
	for _, d := range c.Deltas {
		rec := make([]byte, d.Len)
		if _, err := w.chips[chip].ReadAt(rec, v.blockOffset(d.Block)+int64(d.Off)); err != nil {
			return 0, err
		}
		if err := reference.ApplyDelta(rec, t, uint32(i), p); err != nil {
			return 0, err
		}
	}
	return fingerprint(p), nil
}

// matchType reports how type t in v differs from g's: its size, its chunk
// count, or every chunk that does not hold g's bytes.
func (w *worker) matchType(chip int, v *storeView, g *generation, t info.Type) []mismatch {
	ts, ok := v.state.Type(uint8(t))
	if !ok {
		return []mismatch{{what: fmt.Sprintf("%v missing", t), block: -1}}
	}
	want := g.payloads[t]
	if ts.Size != int64(len(want)) {
		return []mismatch{{what: fmt.Sprintf("%v has %d bytes, want %d", t, ts.Size, len(want)), block: -1}}
	}
	phase := int64(ts.Phase)
	exp := g.chunkPrints(t, phase, w.bench.eraseSize)
	if len(exp) != len(ts.Chunks) {
		return []mismatch{{what: fmt.Sprintf("%v has %d chunks, want %d", t, len(ts.Chunks), len(exp)), block: -1}}
	}
	other := w.bench.prevGen
	if g == w.bench.prevGen {
		other = w.bench.roundGen
	}
	var out []mismatch
	for i, c := range ts.Chunks {
		lo, hi := reference.ChunkBounds(ts.Size, phase, w.bench.eraseSize, int64(i))
		off := v.blockOffset(c.Block)
		var d uint64
		var err error
		if len(c.Deltas) != 0 {
			d, err = w.deltaPrint(chip, v, ts.Type, i, c, hi-lo)
		} else {
			d, err = w.print(chip, off, hi-lo)
		}
		if err == nil && d == exp[i] {
			continue
		}
		m := mismatch{what: fmt.Sprintf("%v chunk %d (block %d) matches neither generation", t, i, c.Block), block: off}
		for _, dr := range c.Deltas {
			m.deltas = append(m.deltas, v.blockOffset(dr.Block))
		}
		if oe := other.chunkPrints(t, phase, w.bench.eraseSize); err == nil && i < len(oe) && oe[i] == d && other != g {
			m.what, m.mix = fmt.Sprintf("%v chunk %d (block %d) holds generation %d's bytes: a mix", t, i, c.Block, other.number), true
		}
		out = append(out, m)
	}
	return out
}
