// Planning a round's deltas: which changed chunks go as delta records,
// which are written whole, which committed deltas are folded back into
// full copies so the delta blocks stay few, and how the records pack into
// delta blocks (docs/FORMAT.md, Deltas).

package store

import (
	"bytes"
	"slices"

	"github.com/cmcsync/cmcsync/hal"
)

// plannedType is one type of a round's plan as Begin decides it: its new
// metadata and chunk count, whether that metadata equals the committed
// one, and the chunks written whole (full).
type plannedType struct {
	plan *TypePlan
	meta TypeState
	n    int
	same bool
	full []int
}

// plannedDelta is a chunk the round commits as a delta record.
type plannedDelta struct {
	t      uint8
	i      int
	rec    []byte
	check  uint64
	digest Digest
}

// deltaPlanner decides a round's deltas.
type deltaPlanner struct {
	s      *Store
	ok     bool // deltas can be used in this store
	budget int  // the most delta blocks the committed state may hold
	limit  int  // the largest delta record: a larger change is written whole
	buf    []byte
	deltas []plannedDelta
}

// deltaFoldDivisor: a chunk whose delta record would exceed 1/4 of a
// chunk is written whole (folded), which also bounds what its next deltas
// cost: a record is the difference from its base, so it grows with every
// round that changes the chunk until the chunk is folded.
const deltaFoldDivisor = 4

func (s *Store) newDeltaPlanner() *deltaPlanner {
	dp := &deltaPlanner{s: s, budget: s.deltaBudget(), limit: int(s.eraseSize / deltaFoldDivisor)}
	dp.ok = s.flash.Geometry().Kind == hal.NOR && s.eraseSize <= deltaMaxChunk && dp.budget > 0 && !s.opts.NoDeltas
	return dp
}

// deltaBudget is the most data blocks the committed deltas may occupy: an
// eighth of the largest generation's chunks (and 16), and at most half of
// what the data area holds beyond twice that generation (the committed
// chunks and their delta blocks, plus a round's new chunks and delta
// blocks, must fit).
func (s *Store) deltaBudget() int {
	spare := int(s.layout.DataBlocks) - 2*int(s.layout.MaxChunks) - 2*int(s.windowBlocks()) - len(s.retired)
	return min(spare/2, int(s.layout.MaxChunks)/8+16)
}

// try plans chunk i of tp, which differs from its committed base chunk,
// as a delta record, and reports whether it did: it reads the base block,
// encodes the differences and keeps them if the record is small enough
// and rebuilds the chunk.
func (dp *deltaPlanner) try(tp *TypePlan, i int, base Chunk, gen uint64) (bool, error) {
	s := dp.s
	if !dp.ok || tp.Payload == nil || int64(len(tp.Payload)) != tp.Size {
		return false, nil
	}
	lo, hi := ChunkBounds(tp.Size, int64(tp.Phase), s.eraseSize, i)
	data := tp.Payload[lo:hi]
	if dp.buf == nil {
		dp.buf = make([]byte, s.eraseSize)
	}
	b := dp.buf[:len(data)]
	if _, err := s.flash.ReadAt(b, s.dataOff(base.Block)); err != nil {
		return false, err
	}
	rec := encodeDelta(tp.Type, uint32(i), gen, b, data)
	if len(rec) > dp.limit {
		return false, nil
	}
	if applyDelta(rec, tp.Type, uint32(i), b) != nil || !bytes.Equal(b, data) {
		return false, nil // never: the record rebuilds what it encodes
	}
	d := plannedDelta{t: tp.Type, i: i, rec: rec, digest: tp.Chunks[i]}
	if i < len(tp.Checks) {
		d.check = tp.Checks[i]
	}
	dp.deltas = append(dp.deltas, d)
	return true, nil
}

// has reports whether a delta of type t is planned.
func (dp *deltaPlanner) has(t uint8) bool {
	return slices.ContainsFunc(dp.deltas, func(d plannedDelta) bool { return d.t == t })
}

// bound keeps the delta blocks the committed state will hold after the
// round within the budget. The blocks still referenced after it are those
// of the committed deltas of chunks the round does not write, plus the
// round's own; while they are too many, the old delta block with the
// fewest such chunks is released by folding them — writing them whole,
// from the plan's bytes (only chunks of types the round syncs, with their
// payload, can be folded). If that is not enough, the round writes no
// delta at all (its changed chunks go whole).
func (dp *deltaPlanner) bound(planned []plannedType) {
	s := dp.s
	byType := map[uint8]*plannedType{}
	written := map[[2]int]bool{}
	for k := range planned {
		pt := &planned[k]
		byType[pt.plan.Type] = pt
		for _, i := range pt.full {
			written[[2]int{int(pt.plan.Type), i}] = true
		}
	}
	for _, d := range dp.deltas {
		written[[2]int{int(d.t), d.i}] = true
	}
	refs := map[uint32][][2]int{}
	for _, ts := range s.committed.Types {
		for i, c := range ts.Chunks {
			if c.Delta.Len == 0 || written[[2]int{int(ts.Type), i}] {
				continue
			}
			if pt, ok := byType[ts.Type]; ok && (i >= pt.n || pt.meta.Phase != ts.Phase) {
				continue // the round drops or rewrites it
			}
			refs[c.Delta.Block] = append(refs[c.Delta.Block], [2]int{int(ts.Type), i})
		}
	}
	if len(refs) == 0 && len(dp.deltas) == 0 {
		return
	}
	newBlocks := len(dp.pack(s.eraseSize))
	foldable := func(cs [][2]int) bool {
		for _, c := range cs {
			pt, ok := byType[uint8(c[0])]
			if !ok || pt.plan.Payload == nil || int64(len(pt.plan.Payload)) != pt.plan.Size {
				return false
			}
		}
		return true
	}
	for len(refs)+newBlocks > max(dp.budget, 0) {
		blocks := make([]uint32, 0, len(refs))
		for b := range refs {
			blocks = append(blocks, b)
		}
		slices.Sort(blocks)
		pick, found := uint32(0), false
		for _, b := range blocks {
			if foldable(refs[b]) && (!found || len(refs[b]) < len(refs[pick])) {
				pick, found = b, true
			}
		}
		if !found {
			// Nothing to fold: no new deltas either.
			for _, d := range dp.deltas {
				pt := byType[d.t]
				pt.full = append(pt.full, d.i)
			}
			dp.deltas = nil
			newBlocks = 0
			if len(refs) <= max(dp.budget, 0) {
				return
			}
			return // the committed deltas stay until their types are synced
		}
		for _, c := range refs[pick] {
			pt := byType[uint8(c[0])]
			pt.full = append(pt.full, c[1])
		}
		delete(refs, pick)
	}
}

// pack lays the planned delta records out in delta blocks of e bytes, in
// plan order, each block holding at most what one intent-deltas record
// lists. The blocks' numbers are set by the allocation.
func (dp *deltaPlanner) pack(e int64) []deltaBlock {
	var out []deltaBlock
	per := deltasPerRecord(e)
	for _, d := range dp.deltas {
		if len(out) == 0 || int64(len(out[len(out)-1].data)+len(d.rec)) > e || len(out[len(out)-1].entries) == per {
			out = append(out, deltaBlock{})
		}
		db := &out[len(out)-1]
		db.entries = append(db.entries, deltaEntry{Type: d.t, Index: uint32(d.i), Off: uint32(len(db.data)), Len: uint32(len(d.rec)), Check: d.check, Digest: d.digest})
		db.data = append(db.data, d.rec...)
	}
	return out
}
