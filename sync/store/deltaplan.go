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
	data   []byte // the chunk's new contents (the plan's)
}

// deltaPlanner decides a round's deltas.
type deltaPlanner struct {
	s      *Store
	ok     bool // deltas can be used in this store
	budget int  // the most delta blocks the committed state may hold
	limit  int  // the largest delta record: a larger change is written whole
	// chainLimit is the most delta records a chunk's chain may hold.
	chainLimit int
	buf        []byte
	deltas     []plannedDelta
	cached     int64 // bytes of the planned deltas' copies for the cache
}

// deltaFoldDivisor: a chunk whose delta records would exceed a chunk's
// size (E/deltaFoldDivisor) in all, or whose new record alone would exceed
// half of that, is written whole (folded), as is one
// whose chain of delta records is full (deltaChainLimit): each record
// holds only what changed since the chunk's last commit, so a chain grows
// with every round that changes the chunk until the chunk is folded. A
// fold costs a whole chunk's program and erase; a chain of E bytes costs
// at most one more chunk's worth of reads when the chunk is read.
const deltaFoldDivisor = 1

func (s *Store) newDeltaPlanner() *deltaPlanner {
	dp := &deltaPlanner{s: s, budget: s.deltaBudget(), limit: int(s.eraseSize / deltaFoldDivisor)}
	// A round with deltas upgrades an older store to FormatVersion first
	// (Begin), so its chains may grow to that version's limit.
	dp.chainLimit = deltaChainLimit(s.writeVersion())
	dp.ok = s.deltasUsable() && dp.budget > 0
	return dp
}

// deltasUsable reports whether this store's rounds may write deltas (NOR
// with chunks of at most 64 KiB, not disabled).
func (s *Store) deltasUsable() bool {
	return s.flash.Geometry().Kind == hal.NOR && s.eraseSize <= deltaMaxChunk && !s.opts.NoDeltas
}

// deltaBudget is the most data blocks the committed deltas may occupy:
// the largest generation's chunk count, and at most half of what the data
// area holds beyond twice that generation (the committed chunks and their
// delta blocks, plus a round's new chunks and delta blocks, must fit).
func (s *Store) deltaBudget() int {
	spare := int(s.layout.DataBlocks) - 2*int(s.layout.MaxChunks) - 2*int(s.windowBlocks()) - len(s.retired)
	return min(spare/2, int(s.layout.MaxChunks))
}

// try plans chunk i of tp, which differs from its committed chunk c, as a
// delta record, and reports whether it did: it reads the committed chunk
// (its base block and delta records), encodes the differences and keeps
// them if the chunk's chain stays short and small enough.
func (dp *deltaPlanner) try(tp *TypePlan, i int, c Chunk, gen uint64) (bool, error) {
	s := dp.s
	if !dp.ok || len(c.Deltas) >= dp.chainLimit {
		return false, nil
	}
	lo, hi := ChunkBounds(tp.Size, int64(tp.Phase), s.eraseSize, i)
	var data []byte
	switch {
	case tp.Payload != nil && int64(len(tp.Payload)) == tp.Size:
		data = tp.Payload[lo:hi]
	case tp.Payload == nil && tp.Chunk != nil:
		b, err := tp.Chunk(i)
		if err != nil || int64(len(b)) != hi-lo {
			return false, nil
		}
		data = b
	default:
		return false, nil
	}
	chain := 0
	for _, d := range c.Deltas {
		chain += int(d.Len)
	}
	if chain >= dp.limit {
		return false, nil
	}
	if dp.buf == nil {
		dp.buf = make([]byte, s.eraseSize)
	}
	b := dp.buf[:len(data)]
	if cached, ok := s.cache.lookup(tp.Type, i, len(data), c.Digest); ok {
		copy(b, cached) // the committed contents, known without a read
	} else {
		if _, err := s.flash.ReadAt(b, s.dataOff(c.Block)); err != nil {
			return false, err
		}
		for _, d := range c.Deltas {
			if err := s.readDelta(b, tp.Type, i, d); err != nil {
				return false, nil // damaged: write the chunk whole
			}
		}
	}
	rec := encodeDelta(s.writeVersion(), tp.Type, uint32(i), gen, b, data)
	if chain+len(rec) > dp.limit || len(rec) > dp.limit/2 {
		return false, nil
	}
	if applyDelta(rec, tp.Type, uint32(i), b) != nil || !bytes.Equal(b, data) {
		return false, nil // never: the record rebuilds what it encodes
	}
	d := plannedDelta{t: tp.Type, i: i, rec: rec, digest: tp.Chunks[i]}
	if s.cache.room(tp.Type, i, int64(len(data)), dp.cached) {
		// A copy for the cache: an accessor may reuse its buffer.
		d.data = bytes.Clone(data)
		dp.cached += int64(len(data))
	}
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
// of the committed chains of chunks the round does not write whole, plus
// the round's own; while they are too many, the committed delta block
// with the fewest such chunks is released by folding them — writing them
// whole, from the plan's bytes (only chunks of types the round syncs, with
// their payload, can be folded; a folded chunk the round meant to extend
// with a delta is written whole instead). If nothing can be folded, the
// round's own deltas are cut until they fit (the rest go whole).
func (dp *deltaPlanner) bound(planned []plannedType) {
	s := dp.s
	type key = [2]int
	byType := map[uint8]*plannedType{}
	whole := map[key]bool{}
	for k := range planned {
		pt := &planned[k]
		byType[pt.plan.Type] = pt
		for _, i := range pt.full {
			whole[key{int(pt.plan.Type), i}] = true
		}
	}
	refs := map[uint32]map[key]bool{} // delta block -> chunks whose chains use it
	chains := map[key][]uint32{}      // chunk -> its delta blocks
	for _, ts := range s.committed.Types {
		for i, c := range ts.Chunks {
			k := key{int(ts.Type), i}
			if len(c.Deltas) == 0 || whole[k] {
				continue
			}
			if pt, ok := byType[ts.Type]; ok && (i >= pt.n || pt.meta.Phase != ts.Phase) {
				continue // the round drops or rewrites it
			}
			for _, d := range c.Deltas {
				if refs[d.Block] == nil {
					refs[d.Block] = map[key]bool{}
				}
				refs[d.Block][k] = true
				chains[k] = append(chains[k], d.Block)
			}
		}
	}
	if len(refs) == 0 && len(dp.deltas) == 0 {
		return
	}
	foldable := func(cs map[key]bool) bool {
		for c := range cs {
			pt, ok := byType[uint8(c[0])]
			if !ok || pt.plan.Payload == nil || int64(len(pt.plan.Payload)) != pt.plan.Size {
				return false
			}
		}
		return true
	}
	unrefChain := func(c key) {
		for _, b := range chains[c] {
			delete(refs[b], c)
			if len(refs[b]) == 0 {
				delete(refs, b)
			}
		}
		delete(chains, c)
	}
	budget := max(dp.budget, 0)
	// records counts the delta records the committed state will hold
	// after the round: the chains still referenced and the new records.
	records := len(dp.deltas)
	for _, c := range chains {
		records += len(c)
	}
	recCap := s.deltaRecordCap()
	over := func() bool { return len(refs)+dp.blocks(s.eraseSize) > budget || records > recCap }
	unref := func(c key) {
		records -= len(chains[c])
		unrefChain(c)
	}
	fold := func(c key) {
		pt := byType[uint8(c[0])]
		pt.full = append(pt.full, c[1])
		n := len(dp.deltas)
		dp.deltas = slices.DeleteFunc(dp.deltas, func(d plannedDelta) bool { return d.t == uint8(c[0]) && d.i == c[1] })
		records -= n - len(dp.deltas)
		unref(c)
	}
	for over() {
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
			// Nothing to fold: fewer new deltas. A chunk whose delta is
			// dropped is written whole, so its committed chain is no
			// longer referenced either.
			for len(dp.deltas) > 0 && over() {
				d := dp.deltas[len(dp.deltas)-1]
				byType[d.t].full = append(byType[d.t].full, d.i)
				dp.deltas = dp.deltas[:len(dp.deltas)-1]
				records--
				unref(key{int(d.t), d.i})
			}
			return
		}
		cs := make([]key, 0, len(refs[pick]))
		for c := range refs[pick] {
			cs = append(cs, c)
		}
		// By type, then chunk. Not (a[0]-b[0])<<32 + ...: on the 32-bit ARM
		// guest that shift is 0, the order ignored the type, and map order
		// decided which chunk folded first.
		slices.SortFunc(cs, func(a, b key) int { return slices.Compare(a[:], b[:]) })
		for _, c := range cs {
			fold(c)
		}
	}
}

// deltaRecordCap is the most delta records the committed state may hold,
// so that a checkpoint of it (one 17-byte checkpoint-deltas entry per
// record, beside its chunk records) and the records of a round as large
// as the store was sized for still fit in one journal area: the area's
// K blocks less the checkpoint's chunk records (maxChunks/⌊(E−44)/44⌋ + 1
// blocks, one more per type and two for its begin and end records), less
// the round's intent-chunks and intent-deltas records (maxChunks entries
// of 49 and of 53 bytes (47 from format version 5), one more block each and one per delta block of
// the budget's worth of a round: at most maxChunks/⌊E/24⌋ + 1), less 8
// blocks for the commit and the records between rounds. Chains of up to
// 32 records (format version 4) could otherwise make a checkpoint that
// does not fit.
func (s *Store) deltaRecordCap() int {
	if s.recordCap > 0 {
		return s.recordCap
	}
	e, m := s.eraseSize, int64(s.layout.MaxChunks)
	ckptChunks := m/((e-44)/44) + 1 + 6 + 2
	round := m/((e-44)/49) + 1 + m*deltaEntryBytes(s.writeVersion())/(e-recordOverhead-14) + 1 + m/(e/deltaOverhead) + 1
	free := int64(s.layout.JournalBlocks) - ckptChunks - round - 8
	if free <= 0 {
		return 0
	}
	return int(free * ((e - recordOverhead - 10) / ckptDeltaEntrySize))
}

// blocks returns how many delta blocks pack makes.
func (dp *deltaPlanner) blocks(e int64) int {
	n, used, entries, per := 0, int64(0), 0, deltasPerRecord(e, dp.s.writeVersion())
	for _, d := range dp.deltas {
		if n == 0 || used+int64(len(d.rec)) > e || entries == per {
			n, used, entries = n+1, 0, 0
		}
		used += int64(len(d.rec))
		entries++
	}
	return n
}

// pack lays the planned delta records out in delta blocks of e bytes, in
// plan order, each block holding at most what one intent-deltas record
// lists. The blocks' numbers are set by the allocation.
func (dp *deltaPlanner) pack(e int64) []deltaBlock {
	var out []deltaBlock
	per := deltasPerRecord(e, dp.s.writeVersion())
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
