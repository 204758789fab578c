package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
)

// A round whose faults the method retries must still commit: a round that
// fails on a fault is an acceptable verdict of every other check, so an
// engine that gives up on a fault it was meant to get past (an erase that
// reported success without erasing, on a part whose erase blocks are
// larger than the read-back's pieces, failing the write as unaligned)
// would pass them all.
//
// docs/FORMAT.md, "Verifying programs and erases": a writer reads every
// erase back and erases again if it does not read erased, at most
// EraseTries erases, then the write fails; it reads every program back
// twice, and a chunk that does not read back is programmed again into the
// same block after an erase, at most three programs; a journal record is
// written again (at the next block's start, or in the same block after an
// erase for a block's first record). So a silent erase failure or a weak
// program is retried, in the same erase block or in another, and as long
// as the faults defeat fewer than EraseTries tries of any one erase block
// the write gets through.

// retriedFaults reports whether the round's faults (fired, from the
// round's injector) are all ones the method retries and fewer than it can
// outlast: each a silent erase failure of a backup erase or a weak backup
// program, none striking an erase block more than EraseTries-1 times. It
// returns how many there were (0: the round had no fault).
func retriedFaults(fired []faults.Fired, eraseSize int64) (int, bool) {
	perBlock := map[int64]int{}
	for _, f := range fired {
		if f.Op.Role != faults.Backup {
			return 0, false
		}
		switch f.Action.(type) {
		case faults.SilentErase:
			if f.Op.Kind != faults.Erase {
				return 0, false
			}
		case faults.Weak:
			if f.Op.Kind != faults.Program {
				return 0, false
			}
		default:
			return 0, false
		}
		for off := range blocksOf(f.Op, eraseSize) {
			if perBlock[off]++; perBlock[off] >= EraseTries {
				return 0, false
			}
		}
	}
	return len(fired), true
}

// checkRetriedCommit: when the round ran without a power cut and without
// damage made before it, and its only faults are ones the method retries
// (retriedFaults), the round commits its generation (live): no error, and
// the commit reported.
func checkRetriedCommit(vs verdicts, t *trial, gen uint64, eraseSize int64) {
	if t.powerLost || len(t.testCase.Before.Rules) > 0 {
		return
	}
	n, ok := retriedFaults(t.roundFired, eraseSize)
	if !ok || n == 0 {
		return
	}
	if got := reportedCommit(t.preEvents); t.roundErr != nil || got < gen {
		vs.fail(Live, "the round's only faults were %s, each retried by the method (fewer than %d per erase block, docs/FORMAT.md, Verifying programs and erases), and it did not commit generation %d (reported %d): %v",
			describeFired(t.roundFired), EraseTries, gen, got, t.roundErr)
		return
	}
	vs.ok(Live, "the round committed generation %d past %d retried fault(s)", gen, n)
}

// describeFired lists fired faults, at most four.
func describeFired(fired []faults.Fired) string {
	s := ""
	for i, f := range fired {
		if i == 4 {
			return s + fmt.Sprintf(" and %d more", len(fired)-4)
		}
		if i > 0 {
			s += ", "
		}
		s += f.String()
	}
	return s
}
