package campaign

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// The bounded-cost invariant (docs/DESIGN.md, Invariants): the work a
// round, a recovery and the live round do on the backup is bounded by what
// the change requires, judged from the stores as the reference decoder
// reads them before and after (docs/FORMAT.md), never from the engine's
// code. The other invariants judge the state a run leaves; a round that
// leaves the right state by doing more than it must (rewriting unchanged
// chunks, erasing blocks it does not use, writing journal records nothing
// reads) keeps all of them, and only this one sees it.

// costWrites is one phase's programs and erases of the backup chip.
type costWrites struct {
	phase  string
	chip   int
	writes []faults.Op
	// erasedTrusted: no damage was done in the run, so the writer's
	// known-erased sets are the journal's (after damage a writer may
	// empty them and erase those blocks again); blankTrusted: and the
	// blocks the journal says are blank read erased (a writer erases a
	// blank block that does not).
	erasedTrusted, blankTrusted bool
}

// judgeCost judges the data-area and journal writes of a clean phase
// (round or live round: no fault fired in it) that took the backup from
// before to after (both readable). The bounds, from docs/FORMAT.md:
//
//   - every data block programmed is one the new committed state
//     references and the old one does not (4.7: a round programs only
//     blocks its intent names; 4.14: a chunk block or delta block is
//     written once, whole), and no more of it than the chunk's length or
//     the delta records' end, rounded up to a slot, is programmed — in a
//     run with damage (!erasedTrusted) once more after one erase of a
//     block the journal before knows erased (its read-back failed: the
//     damage took the record that said it was written);
//   - no data erase covers only blocks the journal before the phase
//     knows erased (4.7, "Known erased": spares of committed intents and
//     purged blocks, and, in a run without damage, blocks not written
//     since the format): a writer programs those without erasing;
//   - every block a data erase covers is one of them or a spare the
//     phase's intent names (4.3: the intent names every block the round
//     will erase or program; an erase window takes spares along); when a
//     compaction dropped the intent from the journal, every data erase
//     covers at least one new block;
//   - no erase covers a block both states reference (committed data of
//     the last generation that stays committed);
//   - a chunk that the new state maps differently from the old one
//     changed: its digest differs, the type is new to the state or
//     changed phase, its old copy is damaged, or it had a delta chain and
//     is now written whole (a fold or a released delta block, 4.14);
//   - every journal program lies inside a record the new journal holds
//     and the old one did not (seq past the old journal's last, or any
//     record of the other area after a compaction) or a copy of one that
//     the scan skipped (4.6 step 3: written again at the next block's
//     start after its read-back failed), none programmed
//     beyond its slots, and every journal erase covers at least one block that
//     receives one of those records (or lies in the area compacted into),
//     an erase window entered at its first block counting as one erase
//     (windowErased);
//   - a phase that changes no chunk writes no data and, unless it
//     compacts, at most one journal record (its commit).
func judgeCost(before, after *storeView, cw costWrites, chips []readerAt) string {
	b := after.backup
	e := b.Superblock.EraseSize
	oldRefs, newRefs := before.refs(), after.refs()
	fresh := map[int64]int64{} // new block offset → bytes it needs
	changed := 0
	for _, ts := range after.state.Types {
		prev, _ := before.state.Type(ts.Type)
		for i, c := range ts.Chunks {
			lo, hi := reference.ChunkBounds(ts.Size, int64(ts.Phase), e, int64(i))
			if off := b.BlockOffset(c.Block); !oldRefs[off] {
				fresh[off] = max(fresh[off], hi-lo)
			}
			for _, d := range c.Deltas {
				if off := b.BlockOffset(d.Block); !oldRefs[off] {
					fresh[off] = max(fresh[off], int64(d.Off)+int64(d.Len))
				}
			}
			if prev != nil && i < len(prev.Chunks) && sameChunk(c, prev.Chunks[i]) {
				continue
			}
			changed++
			if why := chunkRewriteJustified(prev, ts, i, c, before, chips); why != "" {
				return fmt.Sprintf("the %s rewrote chunk %d of type %d although %s", cw.phase, i, ts.Type, why)
			}
		}
	}
	// The blocks the phase's intent named (chunks, delta blocks and
	// spares), if the journal still holds the intent its commit committed
	// (a compaction drops it): every block the phase erases is one of
	// them.
	var named map[int64]bool
	if in := b.CommittedIntent; in != nil && in.Generation == after.generation && after.generation != before.generation {
		named = map[int64]bool{}
		for _, d := range in.Blocks() {
			named[b.BlockOffset(d)] = true
		}
	}
	slot := b.Superblock.SlotSize
	dataOff, dataSize := b.DataRange()
	programmed := map[int64]int64{}
	reprogrammed := map[int64]bool{}
	for _, op := range cw.writes {
		if chipOf(op) != cw.chip || op.Off < dataOff || op.Off >= dataOff+dataSize {
			continue
		}
		blk := op.Off / e * e
		if op.Kind == faults.Erase && !cw.erasedTrusted {
			// In a run with damage a block the journal before knows
			// erased may not be (the damage took the record that named
			// it): the writer programs it as it is, its read-back fails,
			// and it erases the block and programs the chunk again
			// (4.7). Once per block: its programs count from that erase.
			for off := range blocksOf(op, e) {
				if programmed[off] > 0 && !reprogrammed[off] && knownErasedBefore(before.backup, off) {
					programmed[off], reprogrammed[off] = 0, true
				}
			}
		}
		switch op.Kind {
		case faults.Program:
			need, ok := fresh[blk]
			if !ok {
				return fmt.Sprintf("the %s programmed data block %#x, which the committed state after it does not reference as a new block: %v", cw.phase, blk, op)
			}
			programmed[blk] += op.Len
			if limit := (need + slot - 1) / slot * slot; programmed[blk] > limit {
				return fmt.Sprintf("the %s programmed %d bytes into data block %#x, which needs %d (%d rounded up to a %d-byte slot)", cw.phase, programmed[blk], blk, limit, need, slot)
			}
		case faults.Erase:
			serves := false
			for off := range blocksOf(op, e) {
				if oldRefs[off] && newRefs[off] {
					return fmt.Sprintf("the %s erased data block %#x, which holds committed data before and after it: %v", cw.phase, off, op)
				}
				_, ok := fresh[off]
				if named != nil && !ok && !named[off] {
					return fmt.Sprintf("the %s erased data block %#x, which its intent does not name (neither a new chunk or delta block nor a spare): %v", cw.phase, off, op)
				}
				serves = serves || ok
			}
			if !serves && named == nil {
				return fmt.Sprintf("the %s erased data blocks no new chunk or delta record uses: %v", cw.phase, op)
			}
			if why := knownErasedOnly(before.backup, op, cw.erasedTrusted, cw.blankTrusted); why != "" {
				return fmt.Sprintf("the %s erased %s: %v", cw.phase, why, op)
			}
		}
	}
	if why := judgeJournalCost(before, after, cw, changed == 0 && len(fresh) == 0); why != "" {
		return why
	}
	return ""
}

// knownErasedOnly says why the erase op is waste if every data block it
// covers is known erased in b (docs/FORMAT.md 4.7: a writer programs an
// erased block as it is and a blank one after reading it erased; an erase
// window is erased whole when any of its blocks is not known erased), ""
// if not. Only in a run without damage (erasedTrusted); blank blocks only
// if trusted too; a journal with damage says nothing.
func knownErasedOnly(b *reference.Backup, op faults.Op, erasedTrusted, blankTrusted bool) string {
	if b.Damaged() || !erasedTrusted {
		return ""
	}
	e := b.Superblock.EraseSize
	first := b.BlockOffset(0)
	n, kinds := 0, ""
	for off := range blocksOf(op, e) {
		erased, blank := b.KnownErased(uint32((off - first) / e))
		switch {
		case erased:
			kinds = "a spare or purged block"
		case blank && blankTrusted:
			kinds = "a block not written since the format"
		default:
			return ""
		}
		n++
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d data block(s) the journal knows erased (%s among them), which a round programs without erasing", n, kinds)
}

// knownErasedBefore: data block off is in one of b's known-erased sets
// (docs/FORMAT.md 4.7, Known erased).
func knownErasedBefore(b *reference.Backup, off int64) bool {
	e := b.Superblock.EraseSize
	erased, blank := b.KnownErased(uint32((off - b.BlockOffset(0)) / e))
	return erased || blank
}

// readerAt is what chunkRewriteJustified reads a chunk's old copy from.
type readerAt interface {
	ReadAt(p []byte, off int64) (int, error)
}

// sameChunk: c and p are the same committed copy (block and chain).
func sameChunk(c, p reference.Chunk) bool {
	return c.Block == p.Block && slices.Equal(c.Deltas, p.Deltas)
}

// chunkRewriteJustified returns "" if chunk i of ts (now c) had to be
// written, else why it did not.
func chunkRewriteJustified(prev *reference.TypeState, ts reference.TypeState, i int, c reference.Chunk, before *storeView, chips []readerAt) string {
	if prev == nil || i >= len(prev.Chunks) || prev.Phase != ts.Phase {
		return ""
	}
	old := prev.Chunks[i]
	if old.Digest != c.Digest {
		return ""
	}
	lo, hi := reference.ChunkBounds(ts.Size, int64(ts.Phase), before.backup.Superblock.EraseSize, int64(i))
	plo, phi := reference.ChunkBounds(prev.Size, int64(prev.Phase), before.backup.Superblock.EraseSize, int64(i))
	if hi-lo != phi-plo {
		return ""
	}
	if len(old.Deltas) > 0 && len(c.Deltas) == 0 {
		return "" // folded: written whole in place of its chain
	}
	if len(chips) > 0 {
		faultsOf, err := before.backup.VerifyChunks(chips[0])
		if err != nil {
			return ""
		}
		for _, f := range faultsOf {
			if f.Type == ts.Type && f.Index == i {
				return "" // its old copy was damaged
			}
		}
	}
	return fmt.Sprintf("its digest %.8x… is unchanged, its old copy is sound and it had no delta chain to fold (block %d → %d, chain %d → %d records)",
		c.Digest[:4], old.Block, c.Block, len(old.Deltas), len(c.Deltas))
}

// judgeJournalCost judges the journal-area writes of cw (see judgeCost);
// idle: the phase changed no chunk.
func judgeJournalCost(before, after *storeView, cw costWrites, idle bool) string {
	b := after.backup
	if before.backup.Damaged() || b.Damaged() {
		return "" // how a writer steps over a damaged journal is not bounded here
	}
	e := b.Superblock.EraseSize
	jOff, jSize := b.MetadataRange()
	compacted := after.backup.Area != before.backup.Area
	var lastSeq uint64
	for _, r := range before.backup.Journal {
		lastSeq = max(lastSeq, r.Seq)
	}
	var fresh []reference.Record
	for _, r := range b.Journal {
		if compacted || r.Seq > lastSeq {
			fresh = append(fresh, r)
		}
	}
	if idle && !compacted && len(fresh) > 1 {
		return fmt.Sprintf("the %s changed no chunk but wrote %d journal records (at most its commit)", cw.phase, len(fresh))
	}
	if why := judgeSuperblockCost(before, after, cw); why != "" {
		return why
	}
	// Copies of the phase's records at a block's start (written again
	// after their read-back failed; the scan took the first copy and
	// skips these, FORMAT.md 4.6 step 3) are records it wrote too.
	for _, r := range b.Copies {
		if compacted || r.Seq > lastSeq {
			fresh = append(fresh, r)
		}
	}
	sbEnd := b.StoreOff + 2*e // the superblock copies, judged above
	window := windowErased(b, cw, fresh)
	programmed := make([]int64, len(fresh))
	for _, op := range cw.writes {
		if chipOf(op) != cw.chip || op.Off < jOff || op.Off >= jOff+jSize || op.Off+op.Len <= sbEnd {
			continue
		}
		switch op.Kind {
		case faults.Program:
			k := slices.IndexFunc(fresh, func(r reference.Record) bool { return op.Off >= r.Off && op.Off+op.Len <= r.Off+r.Size })
			if k < 0 {
				return fmt.Sprintf("the %s programmed the journal outside every record it added: %v", cw.phase, op)
			}
			if programmed[k] += op.Len; programmed[k] > fresh[k].Size {
				return fmt.Sprintf("the %s programmed %d bytes into a %d-byte journal record (seq %d): %v", cw.phase, programmed[k], fresh[k].Size, fresh[k].Seq, op)
			}
		case faults.Erase:
			// An erase window may take blocks past the tail along (the
			// journal grows into them), but not an erase that serves none
			// of the phase's records.
			serves := false
			for off := range blocksOf(op, e) {
				inArea := off >= b.StoreOff+int64(b.Superblock.JournalFirst[b.Area])*e && off < b.StoreOff+int64(b.Superblock.JournalFirst[b.Area]+b.Superblock.JournalBlocks)*e
				used := slices.ContainsFunc(fresh, func(r reference.Record) bool { return r.Off/e*e == off })
				serves = serves || used || compacted && inArea || window[off]
			}
			if !serves {
				return fmt.Sprintf("the %s erased journal blocks that receive none of its records: %v", cw.phase, op)
			}
		}
	}
	return ""
}

// journalWindow is the span of the erase window the writer erases a
// journal block with (docs/FORMAT.md, The writer after reading: on NOR
// with 4 KiB blocks, a 64 KiB-aligned window).
const journalWindow = 64 << 10

// windowErased returns the journal blocks of b's area in charge that cw
// erased as part of an erase window entered for one of the phase's
// records (fresh): docs/FORMAT.md, The writer after reading — a block
// that starts a 64 KiB-aligned window lying wholly in the area is erased
// with its window when the writer enters it; the harness traces such an
// erase one erase block at a time (faults.Options.SplitPages), as
// consecutive operations, so each unit of the window is judged as the
// window's erase: it serves if the window's first block receives one of
// the phase's records.
func windowErased(b *reference.Backup, cw costWrites, fresh []reference.Record) map[int64]bool {
	e := b.Superblock.EraseSize
	n := journalWindow / e
	if n <= 1 {
		return nil
	}
	lo := b.StoreOff + int64(b.Superblock.JournalFirst[b.Area])*e
	hi := lo + int64(b.Superblock.JournalBlocks)*e
	var out map[int64]bool
	for i, op := range cw.writes {
		start := op.Off
		if chipOf(op) != cw.chip || op.Kind != faults.Erase || start%journalWindow != 0 || start < lo || start+journalWindow > hi ||
			!slices.ContainsFunc(fresh, func(r reference.Record) bool { return r.Off/e*e == start }) {
			continue
		}
		// The window's blocks, erased by consecutive operations from op.
		next, k := start, i
		for next < start+journalWindow && k < len(cw.writes) {
			w := cw.writes[k]
			if chipOf(w) != cw.chip || w.Kind != faults.Erase || w.Off != next || w.Index != op.Index+int64(k-i) {
				break
			}
			next += w.Len
			k++
		}
		if next < start+journalWindow {
			continue
		}
		if out == nil {
			out = map[int64]bool{}
		}
		for off := start; off < next; off += e {
			out[off] = true
		}
	}
	return out
}

// checkRecoveryCost judges the bounded-cost invariant for the round and
// the recovery after it (writes: all their programs and erases; the
// recovery's are recoveryWrites). Always: no erase of the round or the
// recovery covers a block that both the base and the recovered state
// reference (the base as it survived any damage before the round); with
// no damage in the run, every data block the round programmed or erased
// is one an intent of its generation names. A round that ran without any fault and committed is judged as
// judgeCost says. A clean recovery (no fault in it, no damage done in the
// run: a damaged free slot or block costs the writer a record or an
// erase no state shows) erases in the data
// area only blocks of the interrupted round it purges, and programs the
// journal only inside records it added.
func (w *worker) checkRecoveryCost(vs verdicts, t *trial, pre, post *storeView, writes, recoveryWrites []faults.Op) {
	b := w.bench
	base := w.baseView()
	if t.damagedBase != nil {
		// Damage before the round: what the round started from is what
		// survived it.
		if base = t.damagedBase; base.err != nil {
			vs.ok(BoundedCost, "no generation survived the damage before the round: cost not judged")
			return
		}
	}
	both := map[int64]bool{}
	for off := range base.refs() {
		if post.refs()[off] {
			both[off] = true
		}
	}
	for _, op := range writes {
		if chipOf(op) != 1 || op.Kind != faults.Erase {
			continue
		}
		for off := range blocksOf(op, b.eraseSize) {
			if both[off] {
				vs.fail(BoundedCost, "the round or its recovery erased data block %#x, which holds committed data before the round and after the recovery: %v", off, op)
				return
			}
		}
	}
	judged := "no erase hit a block committed before and after"
	if len(t.damage) == 0 && t.external == nil && w.stable && pre.err == nil && !pre.backup.Damaged() {
		if why := w.roundWritesNamed(pre, t.roundWrites); why != "" {
			vs.fail(BoundedCost, "%s", why)
			return
		}
		judged += "; the round wrote data blocks its intent named only"
	}
	if w.cleanRoundCommitted(t, post) {
		if why := judgeCost(base, post, costWrites{phase: "round", chip: 1, writes: t.roundWrites, erasedTrusted: true, blankTrusted: true}, nil); why != "" {
			vs.fail(BoundedCost, "%s", why)
			return
		}
		judged += "; the fault-free round wrote only what its change needs"
	}
	if len(t.testCase.Recovery.Rules) == 0 && len(t.damage) == 0 && t.external == nil && w.stable && pre.err == nil && len(recoveryWrites) > 0 {
		if why := judgeRecoveryCost(pre, post, recoveryWrites); why != "" {
			vs.fail(BoundedCost, "%s", why)
			return
		}
		judged += fmt.Sprintf("; the recovery's %d write(s) only purged and journalled", len(recoveryWrites))
	}
	vs.ok(BoundedCost, "%s", judged)
}

// roundWritesNamed says which data-area program or erase of the round
// (writes) went to a block no intent of the round names ("" if none):
// docs/FORMAT.md 4.7, a round writes its intent before any data, naming
// every data block it will erase or program. pre is the backup right
// after the fault: the round's intent is pending there, or purged by the
// round itself, or committed.
func (w *worker) roundWritesNamed(pre *storeView, writes []faults.Op) string {
	b, gen := pre.backup, w.bench.roundGen.number
	named := map[int64]bool{}
	add := func(bs []uint32) {
		for _, d := range bs {
			named[b.BlockOffset(d)] = true
		}
	}
	add(b.BlocksOfPending())
	if in := b.LastPurged; in != nil && in.Generation == gen {
		add(in.Blocks())
	}
	if in := b.CommittedIntent; in != nil && in.Generation == gen {
		add(in.Blocks())
	}
	e := w.bench.eraseSize
	for _, op := range writes {
		if chipOf(op) != 1 || op.Off < pre.dataOff || op.Off >= pre.dataOff+pre.dataSize {
			continue
		}
		for off := range blocksOf(op, e) {
			if !named[off] {
				return fmt.Sprintf("the round wrote data block %#x, which no intent of its generation %d names: %v", off, gen, op)
			}
		}
	}
	return ""
}

// judgeRecoveryCost: the recovery's data erases cover only blocks of the
// interrupted round (pre's pending intents) and its journal programs lie
// inside records it added.
func judgeRecoveryCost(pre, post *storeView, recoveryWrites []faults.Op) string {
	pending := map[int64]bool{}
	for _, d := range pre.backup.BlocksOfPending() {
		pending[pre.blockOffset(d)] = true
	}
	e := pre.backup.Superblock.EraseSize
	for _, op := range recoveryWrites {
		if chipOf(op) != 1 || op.Kind != faults.Erase || op.Off < pre.dataOff || op.Off >= pre.dataOff+pre.dataSize {
			continue
		}
		for off := range blocksOf(op, e) {
			if !pending[off] {
				return fmt.Sprintf("the recovery erased data block %#x, which no interrupted round named (%d block(s) pending): %v", off, len(pending), op)
			}
		}
	}
	return judgeJournalCost(pre, post, costWrites{phase: "recovery", chip: 1, writes: recoveryWrites}, false)
}

// cleanRoundCommitted: the round ran without a fault of any kind (every
// operation answered, no damage, no cut) and committed the round's
// generation, which the backup holds after recovery.
func (w *worker) cleanRoundCommitted(t *trial, post *storeView) bool {
	if t.roundErr != nil || t.powerLost || t.cuts > 0 || len(t.damage) > 0 || len(t.faultedWrites) > 0 || len(t.testCase.Before.Rules) > 0 {
		return false
	}
	for _, a := range t.answers {
		if !a.Answered() {
			return false
		}
	}
	return post.generation == w.bench.roundGen.number && reportedCommit(t.preEvents) == w.bench.roundGen.number
}

// baseViews holds the view of each bench's base backup (keyed by the
// decoded store, which the bench and its copies share; a bench lives as
// long as the process's bench cache).
var baseViews sync.Map // *reference.Backup → *storeView

// baseView is the base's backup store as the reference decoder read it.
func (w *worker) baseView() *storeView {
	if v, ok := baseViews.Load(w.bench.baseBackup); ok {
		return v.(*storeView)
	}
	v := viewOf(w.bench.baseBackup, nil)
	v.refs()
	actual, _ := baseViews.LoadOrStore(w.bench.baseBackup, v)
	return actual.(*storeView)
}

// checkLiveCost judges the live round's writes (on chip 1, with chip 0
// active and no restore pending) as judgeCost says: before is the state
// after recovery, after the state after the live round; runDamaged: the
// harness damaged the chips in the run (the known-erased rule is then not
// applied).
func (w *worker) checkLiveCost(vs verdicts, before, after *storeView, writes []faults.Op, outcome string, runDamaged bool) {
	if before == nil || before.err != nil {
		vs.ok(BoundedCost, "live round: the state before it is not readable, its cost not judged")
		return
	}
	var why string
	w.quiet(func() {
		why = judgeCost(before, after, costWrites{phase: "live round", chip: 1, writes: writes, erasedTrusted: !runDamaged}, []readerAt{w.chips[1]})
	})
	if why == "" && outcome == engine.OutcomeNothingChanged {
		for _, op := range writes {
			if chipOf(op) == 1 && op.Off >= after.dataOff && op.Off < after.dataOff+after.dataSize {
				why = fmt.Sprintf("the live round reported %s but wrote the data area: %v", outcome, op)
				break
			}
		}
	}
	if why != "" {
		vs.fail(BoundedCost, "%s", why)
		return
	}
	vs.ok(BoundedCost, "live round (%s): %d write(s), each a new block or record of the change", outcome, len(writes))
}

// joinCost keeps what the round and recovery's cost check (before, set
// before the live round) saw beside what the live round's saw, when both
// passed (a failure stands as it is).
func joinCost(vs verdicts, before Verdict) {
	after, ok := vs[BoundedCost]
	if !ok || !after.OK || !before.OK || before.Invariant == "" || after.Saw == before.Saw {
		return
	}
	after.Saw = before.Saw + "; " + after.Saw
	vs[BoundedCost] = after
}

// judgeSuperblockCost judges cw's writes to the two superblock copies
// (store blocks 0 and 1, docs/FORMAT.md 4.1): they are written only when
// the superblock changes (a format version upgrade, 4.11) or an upgrade
// cut between the copies is finished (the copies differ in their version
// before), and then each copy takes at most one erase and one slot of
// programs. A write there with the superblock unchanged, or more than
// that, is waste.
func judgeSuperblockCost(before, after *storeView, cw costWrites) string {
	b := after.backup
	e, slot := b.Superblock.EraseSize, b.Superblock.SlotSize
	lo, hi := b.StoreOff, b.StoreOff+2*e
	old, cur := before.backup.Superblock, b.Superblock
	changed := old.Formatted.Equal(cur.Formatted)
	old.Formatted, cur.Formatted = time.Time{}, time.Time{}
	changed = !changed || old != cur || before.backup.UpgradeCut
	var erases [2]int
	var programmed [2]int64
	for _, op := range cw.writes {
		if chipOf(op) != cw.chip || op.Off+op.Len <= lo || op.Off >= hi {
			continue
		}
		if !changed {
			return fmt.Sprintf("the %s wrote a superblock copy although the superblock did not change: %v", cw.phase, op)
		}
		switch op.Kind {
		case faults.Erase:
			for off := range blocksOf(op, e) {
				if off >= lo && off < hi {
					erases[(off-lo)/e]++
				}
			}
		case faults.Program:
			c := (op.Off - lo) / e
			if op.Off+op.Len > lo+(c+1)*e {
				return fmt.Sprintf("the %s programmed across a superblock copy's block: %v", cw.phase, op)
			}
			programmed[c] += op.Len
		}
	}
	for c := range 2 {
		if erases[c] > 1 || programmed[c] > slot {
			return fmt.Sprintf("the %s rewrote superblock copy %d with %d erases and %d programmed bytes (an upgrade needs at most 1 and a %d-byte slot)",
				cw.phase, c, erases[c], programmed[c], slot)
		}
	}
	return ""
}
