package campaign

import (
	"strings"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
)

// checkSuperblockVerified (atomic): a superblock copy the round
// programmed weakly (a program that reads right once, then differently)
// must have been read back and written again (docs/FORMAT.md, "Verifying
// programs and erases": every program is read back twice; a superblock
// copy that does not read back is erased and programmed again). So when
// the round returned no error, a copy one of its programs left weak that
// the reference decoder reads invalid right after the round (pre: before
// any recovery; the weak ranges read differently by then) was committed
// on unverified: the store goes on with one good copy where the writer
// believes it has two. Copies the harness flipped or scribbled are not
// judged (that damage is the harness's, not the writer's).
func checkSuperblockVerified(vs verdicts, t *trial, pre *storeView) {
	if t.roundErr != nil || pre == nil || pre.err != nil || pre.backup == nil {
		return
	}
	b := pre.backup
	e := b.Superblock.EraseSize
	if e <= 0 {
		return
	}
	for _, f := range t.roundFired {
		if _, ok := f.Action.(faults.Weak); !ok || f.Op.Role != faults.Backup || f.Op.Kind != faults.Program {
			continue
		}
		if f.Op.Off < b.StoreOff || f.Op.Off >= b.StoreOff+2*e {
			continue
		}
		at := b.StoreOff + (f.Op.Off-b.StoreOff)/e*e
		if harnessDamaged(t.damage, 1, at, e) {
			continue
		}
		for _, fd := range b.Findings {
			if fd.Kind == reference.SuperblockDamaged && fd.Off == at && strings.Contains(fd.Detail, "is not valid") {
				vs.fail(Atomic, "the round returned no error, but the superblock copy at %#x that %v left weak reads invalid after it (reference decoder: %s): the writer did not read it back and program it again",
					at, f, fd.Detail)
				return
			}
		}
	}
}

// harnessDamaged reports whether ds holds a flip or scribble (not a weak
// program) of chip in the n bytes at off.
func harnessDamaged(ds []damage, chip int, off, n int64) bool {
	for _, d := range ds {
		if !d.weak && d.chip == chip && d.off < off+n && off < d.off+d.n {
			return true
		}
	}
	return false
}
