package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The checks below each judge one invariant of docs/DESIGN.md, Invariants,
// into vs; judge runs them in order, after a recovery, and checkLive runs
// the live round.

// WearBound is the bound of the bounded-wear invariant: no erase block is
// erased more than this many times by one round together with the
// recoveries after it (the round erases a block once before writing it, a
// purge erases it once more), nor by the live round that follows.
const WearBound = 2

// checkAtomic: the backup's committed information (post) is exactly one
// generation, the one before the round or the round's, every chunk read
// back and compared.
func (w *worker) checkAtomic(vs verdicts, post *storeView) {
	b := w.bench
	var want *generation
	switch post.generation {
	case b.prevGen.number:
		want = b.prevGen
	case b.roundGen.number:
		want = b.roundGen
	default:
		vs.fail(Atomic, "committed generation %d is neither %d (before the round) nor %d (the round)", post.generation, b.prevGen.number, b.roundGen.number)
		return
	}
	var msg string
	w.quiet(func() { msg = w.matches(1, post, want) })
	if msg != "" {
		vs.fail(Atomic, "generation %d: %s", post.generation, msg)
		return
	}
	vs.ok(Atomic, "backup holds exactly generation %d (%d types, every chunk read and compared)", post.generation, len(b.scenario.Types))
}

// checkDurable: no committed generation is lost. The generation committed
// after recovery (post) is at least the one committed before the round
// and the one the backup held right after the fault (firstPre, if read).
func checkDurable(vs verdicts, committedBefore uint64, firstPre, post *storeView) {
	floor, why := committedBefore, "committed before the round"
	if firstPre != nil && firstPre.err == nil && firstPre.generation > floor {
		floor, why = firstPre.generation, "committed on the backup before the restart"
	}
	if post.generation < floor {
		vs.fail(Durable, "committed generation %d after recovery, but generation %d was %s", post.generation, floor, why)
		return
	}
	vs.ok(Durable, "generation %d >= %d (%s)", post.generation, floor, why)
}

// checkPurged: nothing of an interrupted round stays. After recovery no
// interrupted round is pending, every data block written since the base
// (writes) that the committed generation does not use reads erased, an
// interrupted round found before recovery (pre) was reported
// purge-verified, and the recovery (recoveryWrites) programmed nothing in
// the data area: it only purges.
func (w *worker) checkPurged(vs verdicts, pre, post *storeView, writes, recoveryWrites []faults.Op, events []engine.Event) {
	w.quiet(func() { w.checkPurgedBlocks(vs, pre, post, writes, events) })
	for _, op := range recoveryWrites {
		if op.Role == faults.Backup && op.Kind == faults.Program && op.Off < post.dataOff+post.dataSize && op.Off+op.Len > post.dataOff {
			vs.fail(Purged, "the recovery programmed the data area: %v", op)
			return
		}
	}
}

func (w *worker) checkPurgedBlocks(vs verdicts, pre, post *storeView, writes []faults.Op, events []engine.Event) {
	if post.pending != nil {
		vs.fail(Purged, "after recovery the backup still has interrupted generation %d pending", post.pending.Generation)
		return
	}
	// Blocks the round (or a cut recovery) wrote in the data area that the
	// committed generation does not use must read erased.
	live := post.refs()
	w.offsetBuf = w.writtenBlocks(w.offsetBuf[:0], writes, func(chip int, off int64) bool {
		return chip == 1 && off >= post.dataOff && off < post.dataOff+post.dataSize && !live[off]
	})
	var dirty []int64
	for _, k := range w.offsetBuf {
		if _, off := splitTouchKey(k); !w.erased(1, off) {
			dirty = append(dirty, off)
		}
	}
	checked := len(w.offsetBuf)
	if len(dirty) > 0 {
		vs.fail(Purged, "%d data block(s) written by the interrupted round do not read erased after recovery (first at %#x)", len(dirty), dirty[0])
		return
	}
	if pre.err != nil || pre.pending == nil {
		vs.ok(Purged, "no interrupted round pending; %d block(s) written outside the committed generation read erased", checked)
		return
	}
	gen := pre.pending.Generation
	for _, ev := range events {
		if ev.Kind == engine.EventPurgeVerified && ev.Generation == gen {
			vs.ok(Purged, "interrupted generation %d purged and verified; %d written block(s) read erased", gen, checked)
			return
		}
	}
	vs.fail(Purged, "interrupted generation %d was not reported purge-verified", gen)
}

// checkReinit: the configuration after recovery (got) is the one
// committed with the generation it kept (post): after a purge of an
// interrupted round (pre), that generation's (prev's or round's), not the
// interrupted round's; with nothing to purge, a staged configuration is
// kept, else the committed one stands.
func checkReinit(vs verdicts, pre, post *storeView, got engine.Config, prev, round *generation) {
	committed := engineConfig(post.state.Config)
	switch {
	case pre.err == nil && pre.pending != nil:
		exp := prev.config
		if post.generation == round.number {
			exp = round.config
		}
		if !got.Equal(committed) || !got.Equal(exp) {
			vs.fail(Reinit, "after purging generation %d the configuration is %s; generation %d was committed with %s",
				pre.pending.Generation, describe(got), post.generation, describe(exp))
			return
		}
		vs.ok(Reinit, "purged generation %d; configuration reinitialised to generation %d's: %s", pre.pending.Generation, post.generation, describe(got))
	case pre.err == nil && pre.staged != nil:
		if staged := engineConfig(*pre.staged); !got.Equal(staged) {
			vs.fail(Reinit, "nothing to purge; the staged configuration %s was lost: got %s", describe(staged), describe(got))
			return
		}
		vs.ok(Reinit, "nothing to purge; staged configuration kept: %s", describe(got))
	default:
		if !got.Equal(committed) {
			vs.fail(Reinit, "nothing to purge; configuration %s differs from generation %d's %s", describe(got), post.generation, describe(committed))
			return
		}
		vs.ok(Reinit, "nothing to purge; configuration is generation %d's", post.generation)
	}
}

// checkPrimary: no program or erase in writes reached the chip that was
// active (the primary), and its program and erase counts still equal
// baseline.
func (w *worker) checkPrimary(vs verdicts, writes []faults.Op, active int, baseline hal.Stats) {
	for _, op := range writes {
		if chipOf(op) == active {
			vs.fail(PrimaryIntact, "the primary (chip %d) was written: %v", active, op)
			return
		}
	}
	s := w.chips[active].Stats()
	if s.Programs != baseline.Programs || s.Erases != baseline.Erases {
		vs.fail(PrimaryIntact, "the primary's (chip %d) program/erase counts moved from %d/%d to %d/%d",
			active, baseline.Programs, baseline.Erases, s.Programs, s.Erases)
		return
	}
	vs.ok(PrimaryIntact, "no program or erase reached the primary (chip %d)", active)
}

// checkWear: no erase block is erased more than WearBound times by writes
// (the erases of one phase: the round and its recoveries, or the live
// round).
func checkWear(vs verdicts, writes []faults.Op, eraseSize int64, phase string) {
	count := make(map[int64]int, len(writes)) // by touchKey
	for _, op := range writes {
		if op.Kind != faults.Erase {
			continue
		}
		for off := range blocksOf(op, eraseSize) {
			k := touchKey(chipOf(op), off)
			if count[k]++; count[k] > WearBound {
				vs.fail(BoundedWear, "%v block at %#x erased %d times in the %s (bound %d)", op.Role, off, count[k], phase, WearBound)
				return
			}
		}
	}
	vs.ok(BoundedWear, "%d block(s) erased in the %s, none more than %d times", len(count), phase, WearBound)
}

// describe formats the parts of a configuration a scenario sets.
func describe(c engine.Config) string {
	return fmt.Sprintf("{types=%s interval=%v threshold=%v}", info.FormatList(c.Types), c.Interval, c.Threshold)
}
