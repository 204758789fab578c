package campaign

import (
	"github.com/cmcsync/cmcsync/faults"
)

// Blocks left not erased that no read tells from erased ones.

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
