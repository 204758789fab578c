package reference

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
)

// The writer's policy (docs/FORMAT.md 4.14, "The writer's policy"): not
// part of the format — a reader accepts any deltas that follow the rules —
// but what sync/store promises to do, so that an oracle can tell a round
// that is correct but chose differently. JudgePolicy checks one round
// from the committed states before and after it; where the policy leaves
// a choice (which chunks a budget-bound round writes whole), every
// allowed choice passes.

const (
	// policyMergeGap: runs separated by at most this many unchanged bytes
	// are one run (a run header costs as much).
	policyMergeGap = 3
	policyMaxRun   = 256
	// policyWindow is the erase window of NOR (docs/FORMAT.md 4.7): the
	// delta budget leaves two of them aside.
	policyWindow = 64 << 10
	// Journal record framing: 24 header bytes and a 4-byte CRC.
	policyRecordOverhead = 24 + 4
	policyCkptDeltaEntry = 17
)

// PolicyReport is what JudgePolicy checked of a round.
type PolicyReport struct {
	// Deltas is how many delta records the round wrote (each checked
	// against the policy's encoding and fold bounds), Whole how many
	// chunks with a base it wrote whole (each checked to be one the
	// policy folds, or excused by the budget), Released how many
	// unchanged chunks it wrote whole to release delta blocks.
	Deltas, Whole, Released int
	// Pressed: the round's deltas, all written, would have exceeded a
	// budget (or come too close to tell), so the policy lets it write any
	// of them whole and release delta blocks.
	Pressed bool
	// Blocks and Records are the delta blocks and delta records the
	// committed state holds after the round; Budget and RecordCap their
	// bounds.
	Blocks, Records, Budget, RecordCap int
}

// PolicyBudget returns the most delta blocks a committed state of this
// store may hold (docs/FORMAT.md 4.14): the largest generation's chunk
// count (MaxChunks), and at most half of the data blocks left beyond twice
// that and two erase windows (64 KiB each on NOR with smaller blocks),
// less retired blocks. retired is what the writer took out of use.
func (sb *Superblock) PolicyBudget(retired int) int {
	w := int64(0)
	if sb.FlashKind == 1 && sb.EraseSize < policyWindow {
		w = policyWindow / sb.EraseSize
	}
	spare := int64(sb.DataBlocks) - 2*int64(sb.MaxChunks) - 2*w - int64(retired)
	return int(min(spare/2, int64(sb.MaxChunks)))
}

// intentDeltaEntry is the size of an intent-deltas entry a writer of
// format version v writes: 47 bytes (intent-deltas-5) from 5 on, else 53.
func intentDeltaEntry(v uint32) int64 {
	if v >= compactVersion {
		return 47
	}
	return 53
}

// PolicyRecordCap returns the most delta records a committed state may
// hold (docs/FORMAT.md 4.14): the blocks of a journal area (K) less those
// of a checkpoint's chunk records (maxChunks/⌊(E−44)/44⌋ + 1, 6 more for
// the types, 2 for its begin and end), less those of a round of maxChunks
// entries (maxChunks/⌊(E−44)/49⌋ + 1 for its intent-chunks,
// maxChunks·e/(E−42) + 1 for its intent-deltas, e the entry's size,
// maxChunks/⌊E/24⌋ + 1 for one intent-deltas record per delta block), less
// 8, times the checkpoint-deltas entries a block holds (⌊(E−38)/17⌋).
func (sb *Superblock) PolicyRecordCap() int {
	e, m := sb.EraseSize, int64(sb.MaxChunks)
	ckpt := m/((e-44)/44) + 1 + 6 + 2
	round := m/((e-44)/49) + 1 + m*intentDeltaEntry(sb.FormatVersion)/(e-policyRecordOverhead-14) + 1 + m/(e/deltaMinLen) + 1
	free := int64(sb.JournalBlocks) - ckpt - round - 8
	if free <= 0 {
		return 0
	}
	return int(free * ((e - policyRecordOverhead - 10) / policyCkptDeltaEntry))
}

// deltasPerBlock is how many entries one intent-deltas record (one delta
// block) holds: as many as fit in a journal block.
func (sb *Superblock) deltasPerBlock() int {
	return int((sb.EraseSize - policyRecordOverhead - 14) / intentDeltaEntry(sb.FormatVersion))
}

// PolicyRuns returns the runs the policy encodes for a chunk that was
// old and is now cur (equal lengths): a run starts at the first differing
// byte and extends over differing bytes and over gaps of at most 3
// unchanged bytes, up to 256 bytes; it ends at its last differing byte.
func PolicyRuns(old, cur []byte) [][2]int {
	var out [][2]int
	n := len(cur)
	for i := 0; i < n; {
		if old[i] == cur[i] {
			i++
			continue
		}
		end := i + 1
		for j := end; j < n && j-i < policyMaxRun; j++ {
			if old[j] != cur[j] {
				end = j + 1
			} else if j-end >= policyMergeGap {
				break
			}
		}
		out = append(out, [2]int{i, end})
		i = end
	}
	return out
}

// PolicyRecord returns the delta record the policy writes for chunk index
// of type typ, from old (the chunk as committed) to cur, in a store of
// format version v by generation gen: compact from version 5 on.
func PolicyRecord(v uint32, typ uint8, index uint32, gen uint64, old, cur []byte) []byte {
	le := binary.LittleEndian
	var rec []byte
	runs := PolicyRuns(old, cur)
	if v >= compactVersion {
		rec = append(rec, compactTag, typ)
		rec = le.AppendUint32(rec, index)
	} else {
		rec = le.AppendUint32(rec, deltaMagic)
		rec = append(rec, typ, 0)
		rec = le.AppendUint16(rec, uint16(len(runs)))
		rec = le.AppendUint32(rec, index)
		rec = le.AppendUint64(rec, gen)
	}
	for _, r := range runs {
		rec = le.AppendUint16(rec, uint16(r[0]))
		rec = append(rec, byte(r[1]-r[0]-1))
		rec = append(rec, cur[r[0]:r[1]]...)
	}
	return le.AppendUint32(rec, crc32c(rec))
}

// committedBytes reads chunk i of t as a writer sees it committed: the
// first n bytes of its base block with its chain applied (n: the length
// the chunk has now, which may differ from t's). A delta that does not
// apply is ErrChunk naming its data block; p holds the chunk as far as it
// was built. It checks no digest (readChunk does).
func (b *Backup) committedBytes(r io.ReaderAt, t *TypeState, i int, n int64) ([]byte, error) {
	c := t.Chunks[i]
	p := make([]byte, n)
	if err := readAt(r, p, b.BlockOffset(c.Block)); err != nil {
		return nil, err
	}
	for _, d := range c.Deltas {
		rec := make([]byte, d.Len)
		if err := readAt(r, rec, b.BlockOffset(d.Block)+int64(d.Off)); err != nil {
			return nil, err
		}
		if err := ApplyDelta(rec, t.Type, uint32(i), p); err != nil {
			return p, fmt.Errorf("%w: type %d chunk %d: its delta in data block %d: %w", ErrChunk, t.Type, i, d.Block, err)
		}
	}
	return p, nil
}

// JudgePolicy checks the round that took the committed state of before to
// that of after (the generation after it, both read by Decode from the
// same chip; r reads that chip now: the blocks before's state holds are
// untouched by the round) against the writer's policy of docs/FORMAT.md
// 4.14. noDeltas: the writer was told to write every chunk whole. It
// returns what it checked and why the round broke the policy ("" if it
// did not). A store with damage, or two states that are not one round
// apart, is not judged (an empty report).
func JudgePolicy(before, after *Backup, r io.ReaderAt, noDeltas bool) (PolicyReport, string) {
	var rep PolicyReport
	sb := &after.Superblock
	if before.Damaged() || after.Damaged() || after.Committed.Generation != before.Committed.Generation+1 ||
		before.Superblock.EraseSize != sb.EraseSize || before.Superblock.DataBlocks != sb.DataBlocks {
		return rep, ""
	}
	e := sb.EraseSize
	rep.Budget, rep.RecordCap = sb.PolicyBudget(0), sb.PolicyRecordCap()
	usable := !noDeltas && sb.FlashKind == 1 && e <= deltaMaxErase && sb.FormatVersion >= deltaVersion && rep.Budget > 0
	limit := maxChain(sb.FormatVersion)
	oldDelta := map[uint32]bool{} // delta blocks of the state before
	for _, t := range before.Committed.Types {
		for _, c := range t.Chunks {
			for _, d := range c.Deltas {
				oldDelta[d.Block] = true
			}
		}
	}
	type planned struct {
		chain []uint32 // delta blocks before's state holds that the chunk keeps
		extra int64    // length of a record it would add (0: none)
	}
	var plan []planned
	var feasible, released []string
	for ti := range after.Committed.Types {
		ts := &after.Committed.Types[ti]
		prev, _ := before.Committed.Type(ts.Type)
		for i, c := range ts.Chunks {
			var old *Chunk
			if prev != nil && prev.Phase == ts.Phase && i < len(prev.Chunks) {
				old = &prev.Chunks[i]
			}
			keep := func(ds []DeltaRef) []uint32 {
				var bs []uint32
				for _, d := range ds {
					if oldDelta[d.Block] {
						bs = append(bs, d.Block)
					}
				}
				return bs
			}
			switch {
			case old == nil || old.Block == c.Block && slices.Equal(old.Deltas, c.Deltas):
				plan = append(plan, planned{chain: keep(c.Deltas)})
				continue
			case len(c.Deltas) == len(old.Deltas)+1 && c.Block == old.Block && slices.Equal(c.Deltas[:len(old.Deltas)], old.Deltas):
				rep.Deltas++
				plan = append(plan, planned{chain: keep(c.Deltas)})
				if why := checkDeltaRecord(after, r, ts, i, old, c, limit); why != "" {
					return rep, why
				}
				continue
			case len(c.Deltas) != 0:
				plan = append(plan, planned{chain: keep(c.Deltas)})
				continue // not a shape a round makes; the reader judges it
			}
			// Written whole.
			if old.Digest == c.Digest {
				if len(old.Deltas) > 0 {
					rep.Released++
					released = append(released, fmt.Sprintf("type %d chunk %d", ts.Type, i))
					plan = append(plan, planned{chain: keep(old.Deltas)})
				}
				continue
			}
			rep.Whole++
			if !usable || len(old.Deltas) >= limit {
				continue
			}
			lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), e, int64(i))
			was, err := before.committedBytes(r, prev, i, hi-lo)
			plo, phi := ChunkBounds(prev.Size, int64(prev.Phase), e, int64(i))
			if err != nil || phi-plo == hi-lo && sha256.Sum256(was) != old.Digest {
				continue // its committed copy does not read right: written whole
			}
			now, err := after.readChunk(r, ts, i)
			if err != nil {
				continue // the atomic check's business
			}
			rec := PolicyRecord(sb.FormatVersion, ts.Type, uint32(i), after.Committed.Generation, was, now)
			chain := int64(0)
			for _, d := range old.Deltas {
				chain += int64(d.Len)
			}
			if chain+int64(len(rec)) > e || int64(len(rec)) > e/2 {
				continue // folded
			}
			feasible = append(feasible, fmt.Sprintf("type %d chunk %d (a %d-byte record, chain %d records, %d bytes)", ts.Type, i, len(rec), len(old.Deltas), chain))
			plan = append(plan, planned{chain: keep(old.Deltas), extra: int64(len(rec))})
		}
	}
	// After the round: its delta blocks and records within the budgets.
	blocks := map[uint32]bool{}
	for _, t := range after.Committed.Types {
		for _, c := range t.Chunks {
			rep.Records += len(c.Deltas)
			for _, d := range c.Deltas {
				blocks[d.Block] = true
			}
		}
	}
	rep.Blocks = len(blocks)
	if rep.Blocks > max(rep.Budget, 0) {
		return rep, fmt.Sprintf("the committed state holds %d delta blocks, the budget is %d", rep.Blocks, rep.Budget)
	}
	if rep.Records > rep.RecordCap && rep.Records > 0 {
		return rep, fmt.Sprintf("the committed state holds %d delta records, at most %d fit a checkpoint", rep.Records, rep.RecordCap)
	}
	if why := checkPacking(after); why != "" {
		return rep, why
	}
	// Had the round written every delta the policy allows and released
	// nothing, would it exceed a budget? Counted generously (a margin of
	// one block and one record), so that a round near a bound may choose.
	held := map[uint32]bool{}
	records, fresh, extra := 0, 0, []int64{}
	for _, p := range plan {
		for _, d := range p.chain {
			held[d] = true
		}
		records += len(p.chain)
		if p.extra > 0 {
			records++
			extra = append(extra, p.extra)
		}
	}
	for d := range blocks {
		if !oldDelta[d] {
			fresh++
		}
	}
	records += rep.Records - countKept(after, oldDelta)
	need := len(held) + fresh + nextFit(extra, e, sb.deltasPerBlock())
	rep.Pressed = need+1 > rep.Budget || records+1 > rep.RecordCap
	if rep.Pressed {
		return rep, ""
	}
	if len(feasible) > 0 {
		return rep, fmt.Sprintf("the round wrote %s whole; the policy writes it as a delta (%d delta blocks and %d records with it, budgets %d and %d)", feasible[0], need, records, rep.Budget, rep.RecordCap)
	}
	if len(released) > 0 {
		return rep, fmt.Sprintf("the round rewrote %s whole to release its delta blocks, with no budget exceeded (%d delta blocks and %d records without it, budgets %d and %d)", released[0], need, records, rep.Budget, rep.RecordCap)
	}
	return rep, ""
}

// countKept counts the delta records of after's chains that lie in
// blocks of the state before (already counted in the plan's chains).
func countKept(after *Backup, oldDelta map[uint32]bool) int {
	n := 0
	for _, t := range after.Committed.Types {
		for _, c := range t.Chunks {
			for _, d := range c.Deltas {
				if oldDelta[d.Block] {
					n++
				}
			}
		}
	}
	return n
}

// nextFit counts the blocks of e bytes (at most per records each) that
// records of these lengths fill, packed in order.
func nextFit(lens []int64, e int64, per int) int {
	n, used, k := 0, int64(0), 0
	for _, l := range lens {
		if n == 0 || used+l > e || k == per {
			n, used, k = n+1, 0, 0
		}
		used += l
		k++
	}
	return n
}

// checkDeltaRecord checks the delta record the round appended to chunk i
// of ts: the chain had room (fewer than N records, at most E bytes with
// it, the record at most E/2), and the record is the policy's encoding of
// the chunk as committed before and now.
func checkDeltaRecord(after *Backup, r io.ReaderAt, ts *TypeState, i int, old *Chunk, c Chunk, limit int) string {
	sb := &after.Superblock
	e := sb.EraseSize
	d := c.Deltas[len(c.Deltas)-1]
	chain := int64(0)
	for _, x := range old.Deltas {
		chain += int64(x.Len)
	}
	switch {
	case len(old.Deltas) >= limit:
		return fmt.Sprintf("type %d chunk %d: a delta appended to a full chain of %d records", ts.Type, i, len(old.Deltas))
	case chain+int64(d.Len) > e:
		return fmt.Sprintf("type %d chunk %d: a %d-byte delta record after %d bytes of chain exceeds %d bytes; the policy folds it", ts.Type, i, d.Len, chain, e)
	case int64(d.Len) > e/2:
		return fmt.Sprintf("type %d chunk %d: a %d-byte delta record exceeds half a block (%d); the policy folds it", ts.Type, i, d.Len, e/2)
	}
	lo, hi := ChunkBounds(ts.Size, int64(ts.Phase), e, int64(i))
	was, err := committedWith(after, r, ts.Type, i, *old, hi-lo)
	if err != nil {
		return "" // the atomic check's business
	}
	rec := make([]byte, d.Len)
	if err := readAt(r, rec, after.BlockOffset(d.Block)+int64(d.Off)); err != nil {
		return ""
	}
	now := slices.Clone(was)
	if err := ApplyDelta(rec, ts.Type, uint32(i), now); err != nil {
		return ""
	}
	want := PolicyRecord(sb.FormatVersion, ts.Type, uint32(i), after.Committed.Generation, was, now)
	if !bytes.Equal(rec, want) {
		return fmt.Sprintf("type %d chunk %d: its delta record (%d bytes, %d runs) is not the policy's encoding (%d bytes, %d runs: runs merged across gaps of at most 3 unchanged bytes, at most 256 bytes, %s framing)",
			ts.Type, i, len(rec), countRuns(rec, sb.FormatVersion), len(want), len(PolicyRuns(was, now)), framing(sb.FormatVersion))
	}
	return ""
}

// committedWith reads chunk i of type typ as committed in old (its base
// block and chain), n bytes.
func committedWith(b *Backup, r io.ReaderAt, typ uint8, i int, old Chunk, n int64) ([]byte, error) {
	t := &TypeState{TypeMeta: TypeMeta{Type: typ}, Chunks: make([]Chunk, i+1)}
	t.Chunks[i] = old
	return b.committedBytes(r, t, i, n)
}

func framing(v uint32) string {
	if v >= compactVersion {
		return "compact"
	}
	return "version 3"
}

// countRuns counts the runs of a delta record (for messages).
func countRuns(rec []byte, v uint32) int {
	head := deltaHeadSize
	if len(rec) > 0 && rec[0] == compactTag {
		head = compactHeadSize
	}
	if len(rec) < head+4 {
		return 0
	}
	q, n := rec[head:len(rec)-4], 0
	for len(q) >= 3 {
		l := int(q[2]) + 1
		q = q[min(len(q), 3+l):]
		n++
	}
	return n
}

// checkPacking checks how the round that after's journal committed (if it
// still holds its intent) packed its delta records: in order, a delta
// block started only when the next record does not fit in the one before
// or that block's intent-deltas record is full.
func checkPacking(after *Backup) string {
	in := after.CommittedIntent
	if in == nil || in.Generation != after.Committed.Generation {
		return ""
	}
	e, per := after.Superblock.EraseSize, after.Superblock.deltasPerBlock()
	for k := 0; k+1 < len(in.Deltas); k++ {
		cur, next := in.Deltas[k], in.Deltas[k+1]
		if len(next.Entries) == 0 || len(cur.Entries) >= per {
			continue
		}
		used := int64(0)
		for _, x := range cur.Entries {
			used = max(used, int64(x.Off)+int64(x.Len))
		}
		if l := int64(next.Entries[0].Len); used+l <= e {
			return fmt.Sprintf("delta block %d holds %d bytes of records (%d entries); the next record (%d bytes, type %d chunk %d) fits in it but went to delta block %d",
				cur.Block, used, len(cur.Entries), l, next.Entries[0].Type, next.Entries[0].Index, next.Block)
		}
	}
	return ""
}
