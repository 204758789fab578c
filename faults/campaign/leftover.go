package campaign

import (
	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
)

// Blocks the round only erased: what a torn erase leaves of older data.

// programmedBlocks returns the backup data blocks (by offset) that a
// program of writes reached.
func (w *worker) programmedBlocks(writes []faults.Op) map[int64]bool {
	out := map[int64]bool{}
	for _, op := range writes {
		if op.Kind != faults.Program || chipOf(op) != 1 {
			continue
		}
		for off := range blocksOf(op, w.bench.eraseSize) {
			out[off] = true
		}
	}
	return out
}

// olderDataOnly reports whether the backup block at off, which no program
// of the round or its recovery reached, holds only what it held before
// the round (before: the backup chip as the damage before the round left
// it, nil for the base): every bit that reads 0 now read 0 then. An
// erase, whole or torn, only turns bits to 1, so such a block keeps
// nothing of the round: what stays is older data (a generation the
// damage before the round rolled back, a chunk no longer committed)
// that the round's erase did not finish clearing, and that the store
// erases before it programs the block again. A block the round
// programmed, or one with a 0 bit that read 1 before the round, is not.
// It runs inside the oracle's quiet reads: the chip is put back as it is
// now.
func (w *worker) olderDataOnly(off int64, before *sim.Snapshot) bool {
	e := w.bench.eraseSize
	now := make([]byte, e)
	if _, err := w.chips[1].ReadAt(now, off); err != nil {
		return false
	}
	then := make([]byte, e)
	if before == nil {
		if _, err := w.baseChips[1].ReadAt(then, off); err != nil {
			return false
		}
	} else {
		chip := w.chips[1]
		cur := chip.Snapshot()
		chip.Restore(before)
		_, err := chip.ReadAt(then, off)
		chip.Restore(cur)
		if err != nil {
			return false
		}
	}
	for i := range now {
		if ^now[i]&then[i] != 0 { // a 0 bit now that read 1 before the round
			return false
		}
	}
	return true
}

// journalSaysErased reports whether the backup's journal, as the reference
// decoder read it after recovery (post), lists the data block at off as
// known erased: a writer programs such a block without reading or erasing
// it first (docs/FORMAT.md 4.7), so it must read erased, whatever it held
// before the round.
func journalSaysErased(post *storeView, off int64) bool {
	if post.backup == nil {
		return false
	}
	e := int64(post.backup.Superblock.EraseSize)
	if e <= 0 || off < post.dataOff {
		return false
	}
	erased, _ := post.backup.KnownErased(uint32((off - post.dataOff) / e))
	return erased
}

// unsettledOnly reports whether the backup block at off holds 0 bits only
// in cells left unstable (a torn or weak program's cells between states,
// whose reads return their 0 bits at random: sim.Flash.ReadSettled reads
// them erased), while faulted (the round's and recovery's faulted writes)
// holds an erase of it that the faults made fail or lie. An honest erase
// clears unstable cells; one that silently did nothing or part of its
// work leaves them, and then every read the engine makes may see the
// block erased: reads cannot tell it from an erased one, the purge's
// verify included. A block with one 0 bit that every read returns is not.
func (w *worker) unsettledOnly(off int64, faulted []faults.Op) bool {
	e := w.bench.eraseSize
	lied := false
	for _, op := range faulted {
		if op.Kind == faults.Erase && chipOf(op) == 1 && op.Off <= off && off < op.Off+op.Len {
			lied = true
			break
		}
	}
	if !lied {
		return false
	}
	settled := make([]byte, e)
	w.chips[1].ReadSettled(settled, off)
	for _, b := range settled {
		if b != 0xff {
			return false
		}
	}
	return true
}
