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
// generation: the view, the generation and a hash of the referenced blocks
// written since the base.
type matchKey struct {
	view       uint64 // storeView.id
	generation *generation
	blocksHash uint64
}

// matches reports how the committed generation in v, the store on chip,
// differs from g ("" if it holds exactly g's payloads).
func (w *worker) matches(chip int, v *storeView, g *generation) string {
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
	key := matchKey{v.id, g, h.Sum64()}
	if m, ok := w.matchMemo[key]; ok {
		return m
	}
	m := w.match(chip, v, g)
	if len(w.matchMemo) > 1<<16 {
		clear(w.matchMemo)
	}
	w.matchMemo[key] = m
	return m
}

// match compares every type of v with g, reading every chunk (at most
// three differences are listed).
func (w *worker) match(chip int, v *storeView, g *generation) string {
	var bad []string
	for _, t := range w.bench.scenario.Types {
		if why := w.matchType(chip, v, g, t); why != "" {
			bad = append(bad, why)
		}
	}
	if len(bad) > 3 {
		bad = append(bad[:3], fmt.Sprintf("and %d more", len(bad)-3))
	}
	return strings.Join(bad, "; ")
}

// matchType reports how type t in v differs from g's ("" if it does not):
// its size, its chunk count, or its first chunk that does not hold g's
// bytes.
func (w *worker) matchType(chip int, v *storeView, g *generation, t info.Type) string {
	ts, ok := v.state.Type(uint8(t))
	if !ok {
		return fmt.Sprintf("%v missing", t)
	}
	want := g.payloads[t]
	if ts.Size != int64(len(want)) {
		return fmt.Sprintf("%v has %d bytes, want %d", t, ts.Size, len(want))
	}
	phase := int64(ts.Phase)
	exp := g.chunkPrints(t, phase, w.bench.eraseSize)
	if len(exp) != len(ts.Chunks) {
		return fmt.Sprintf("%v has %d chunks, want %d", t, len(ts.Chunks), len(exp))
	}
	for i, c := range ts.Chunks {
		lo, hi := reference.ChunkBounds(ts.Size, phase, w.bench.eraseSize, int64(i))
		d, err := w.print(chip, v.blockOffset(c.Block), hi-lo)
		if err == nil && d == exp[i] {
			continue
		}
		if g != w.bench.prevGen && g != w.bench.roundGen {
			return fmt.Sprintf("%v chunk %d (block %d) does not match", t, i, c.Block)
		}
		other := w.bench.prevGen
		if g == w.bench.prevGen {
			other = w.bench.roundGen
		}
		if oe := other.chunkPrints(t, phase, w.bench.eraseSize); err == nil && i < len(oe) && oe[i] == d {
			return fmt.Sprintf("%v chunk %d (block %d) holds generation %d's bytes: a mix", t, i, c.Block, other.number)
		}
		return fmt.Sprintf("%v chunk %d (block %d) matches neither generation", t, i, c.Block)
	}
	return ""
}
