package campaign

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
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
//
// When damage before the round destroyed commits (the reference decoder
// reads an older generation from the damaged base, t.damagedBase), the
// round commits the next number with the round's information, or the
// state that survived the damage stays as it was.
//
// A chunk in a data block the harness damaged behind the engine's back
// after the engine last wrote it (its own block, or one holding a delta
// record applied to it) (a flip or scribble of committed data, a
// weak program that read right once: t.damage) is damage, not a mix: it
// passes if the engine reported damage (reported: the stores' damage at
// open, a scrub's damage events) — the live round must then repair it —
// and fails as undetected damage otherwise. A chunk that holds the other
// generation's bytes is a mix and always fails.
func (w *worker) checkAtomic(vs verdicts, t *trial, post *storeView, reported []string) {
	b := w.bench
	want := b.generation(post.generation)
	if base := t.damagedBase; base != nil && base.err == nil && base.generation < b.prevGen.number {
		want = nil
		switch post.generation {
		case base.generation + 1:
			want = b.roundGen
		case base.generation:
			carried, msg := w.sameState(t, post, base, reported)
			if msg != "" {
				vs.fail(Atomic, "generation %d survived the damage before the round, but %s", post.generation, msg)
				return
			}
			if carried > 0 {
				vs.ok(Atomic, "backup holds generation %d as it survived the damage before the round, with the %d chunk(s) that damage broke, which the engine reported (%s)", post.generation, carried, reported[0])
				return
			}
			vs.ok(Atomic, "backup holds generation %d as it survived the damage before the round", post.generation)
			return
		}
	}
	if want == nil {
		vs.fail(Atomic, "committed generation %d is neither %d (before the round) nor %d (the round)", post.generation, b.prevGen.number, b.roundGen.number)
		return
	}
	var ms []mismatch
	w.quiet(func() { ms = w.matches(1, post, want) })
	var bad, damaged []mismatch
	for _, m := range ms {
		if !m.mix && m.block >= 0 && slices.ContainsFunc(m.blocks(), func(off int64) bool { return damagedSinceWritten(t, 1, off, b.eraseSize) }) {
			damaged = append(damaged, m)
			continue
		}
		bad = append(bad, m)
	}
	switch {
	case len(bad) > 0:
		vs.fail(Atomic, "generation %d: %s", post.generation, listMismatches(bad))
	case len(damaged) > 0 && len(reported) == 0:
		vs.fail(Atomic, "generation %d: %s, damaged by the faults after it was committed, and the engine reported no damage", post.generation, listMismatches(damaged))
	case len(damaged) > 0:
		vs.ok(Atomic, "backup holds generation %d but for %d chunk(s) damaged by the faults, which the engine reported (%s)", post.generation, len(damaged), reported[0])
	default:
		vs.ok(Atomic, "backup holds exactly generation %d (%d types, every chunk read and compared)", post.generation, len(b.scenario.Types))
	}
}

// damagedSinceWritten reports whether the harness damaged the erase block
// at off of chip after the round last wrote it (or, if the round did not
// write it, at all): a flip or scribble there that no later program or
// erase of the round came after, or a weak program.
func damagedSinceWritten(t *trial, chip int, off, eraseSize int64) bool {
	for _, d := range t.damage {
		if d.chip != chip || d.off >= off+eraseSize || d.off+d.n <= off {
			continue
		}
		if d.weak {
			return true
		}
		rewritten := false
		for _, op := range t.roundWrites {
			if chipOf(op) == chip && op.Index > d.at && op.Off < off+eraseSize && op.Off+op.Len > off {
				rewritten = true
			}
		}
		if !rewritten {
			return true
		}
	}
	return false
}

// sameState says how post's committed state differs from base's, or
// whether a chunk of it does not match its digest ("" if neither). A chunk
// that already failed its digest on the damaged base (read from
// t.damagedSnap) is the damage before the round carried over, not a
// change: it passes if the engine reported damage (reported), and carried
// counts those chunks; the live round must then repair them. A chunk that
// fails now but read right on the damaged base was broken by the round or
// the recovery, and fails.
func (w *worker) sameState(t *trial, post, base *storeView, reported []string) (carried int, msg string) {
	if !reflect.DeepEqual(post.state.Types, base.state.Types) {
		return 0, "its chunk maps changed"
	}
	var bad []reference.ChunkFault
	var err error
	w.quiet(func() { bad, err = post.backup.VerifyChunks(w.chips[1]) })
	switch {
	case err != nil:
		return 0, fmt.Sprintf("its chunks cannot be read: %v", err)
	case len(bad) == 0:
		return 0, ""
	}
	before, err := w.faultsOnDamagedBase(t, base)
	if err != nil {
		return 0, fmt.Sprintf("%d chunk(s) do not match their digests (first: %v), and the damaged base's chunks cannot be read: %v", len(bad), bad[0].Err, err)
	}
	var fresh []reference.ChunkFault
	for _, f := range bad {
		if !before[chunkID{f.Type, f.Index}] {
			fresh = append(fresh, f)
		}
	}
	switch {
	case len(fresh) > 0:
		return 0, fmt.Sprintf("%d chunk(s) do not match their digests although they did on the damaged base (first: %v)", len(fresh), fresh[0].Err)
	case len(reported) == 0:
		return 0, fmt.Sprintf("%d chunk(s) broken by the damage before the round do not match their digests, and the engine reported no damage (first: %v)", len(bad), bad[0].Err)
	}
	return len(bad), ""
}

// chunkID names a committed chunk: its type and index.
type chunkID struct {
	typ   uint8
	index int
}

// faultsOnDamagedBase returns the committed chunks of base that did not
// match their digests on the backup chip as the damage before the round
// left it (t.damagedSnap). The chip is put back as it is now afterwards.
func (w *worker) faultsOnDamagedBase(t *trial, base *storeView) (map[chunkID]bool, error) {
	if t.damagedSnap == nil {
		return nil, nil
	}
	chip := w.chips[1]
	var bad []reference.ChunkFault
	var err error
	w.quiet(func() {
		now := chip.Snapshot()
		chip.Restore(t.damagedSnap)
		bad, err = base.backup.VerifyChunks(chip)
		chip.Restore(now)
	})
	out := make(map[chunkID]bool, len(bad))
	for _, f := range bad {
		out[chunkID{f.Type, f.Index}] = true
	}
	return out, err
}

// reportedCommit returns the generation a commit event in events reports
// (0 if none).
func reportedCommit(events []engine.Event) uint64 {
	var g uint64
	for _, ev := range events {
		if ev.Kind == engine.EventCommit {
			g = max(g, ev.Generation)
		}
	}
	return g
}

// damageReported lists the damage the engine reported: the stores' damage
// at open (Status.Damage) and damage events (a scrub's).
func damageReported(e *engine.Engine, events ...[]engine.Event) []string {
	out := slices.Clone(e.Status().Damage)
	for _, evs := range events {
		for _, ev := range evs {
			if ev.Kind == engine.EventDamage {
				out = append(out, ev.Detail)
			}
		}
	}
	return out
}

// checkDurable: no committed generation is lost. The generation committed
// after recovery (post) is at least the one committed before the round,
// the one the round reported committed (reported, 0 if none) and the one
// the backup held right after the fault (firstPre, if read). Damage before
// the round may destroy commits: the floor is then what the reference
// decoder still read on the damaged base (damagedBase).
func checkDurable(vs verdicts, committedBefore, reported uint64, damagedBase, firstPre, post *storeView) {
	floor, why := committedBefore, "committed before the round"
	if damagedBase != nil {
		switch {
		case damagedBase.err != nil:
			floor, why = 0, "no generation survived the damage before the round"
		case damagedBase.generation < floor:
			floor, why = damagedBase.generation, "what survived the damage before the round"
		}
	}
	if reported > floor {
		floor, why = reported, "reported committed by the round"
	}
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
//
// A block the round or its recovery only erased is no exception: a purge
// erases what the durable intent names (docs/FORMAT.md 4.7), and a round
// that erases a data block its durable intent does not name breaks
// bounded-cost already, so for a correct store the purge after a torn
// erase finishes it. The
// check used to accept such a block when it held only older data (a torn
// erase of a block only the plan named, before the purge fix of
// docs/MUTATION.md, purgefix); with that exception made a violation, no
// point of any scenario's exhaustive campaign (small also at depth 2) nor
// of 2000 random schedules of each reached it.
//
// The one exception: a block whose only 0 bits sit in cells the faults
// left unstable, when the faults also made an erase of it lie (faulted:
// see unsettledOnly): no number of reads tells such a block from an
// erased one.
func (w *worker) checkPurged(vs verdicts, pre, post *storeView, writes, recoveryWrites, faulted []faults.Op, events []engine.Event) {
	w.quiet(func() { w.checkPurgedBlocks(vs, pre, post, writes, faulted, events) })
	for _, op := range recoveryWrites {
		if op.Role == faults.Backup && op.Kind == faults.Program && op.Off < post.dataOff+post.dataSize && op.Off+op.Len > post.dataOff {
			vs.fail(Purged, "the recovery programmed the data area: %v", op)
			return
		}
	}
}

func (w *worker) checkPurgedBlocks(vs verdicts, pre, post *storeView, writes, faulted []faults.Op, events []engine.Event) {
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
	unsettled := 0
	for _, k := range w.offsetBuf {
		_, off := splitTouchKey(k)
		if w.erased(1, off) {
			continue
		}
		if w.unsettledOnly(off, faulted) {
			unsettled++
			continue
		}
		dirty = append(dirty, off)
	}
	checked := len(w.offsetBuf) - unsettled
	if len(dirty) > 0 {
		vs.fail(Purged, "%d data block(s) the round or its recovery wrote or erased, outside the committed generation, do not read erased after recovery (first at %#x)", len(dirty), dirty[0])
		return
	}
	also := ""
	if unsettled > 0 {
		also = fmt.Sprintf(" (%d more hold 0 bits only in cells a torn or weak program left unstable, under an erase the faults made lie: a read may see them erased every time)", unsettled)
	}
	if pre.err != nil || pre.pending == nil {
		vs.ok(Purged, "no interrupted round pending; %d block(s) written outside the committed generation read erased%s", checked, also)
		return
	}
	gen := pre.pending.Generation
	for _, ev := range events {
		if ev.Kind == engine.EventPurgeVerified && ev.Generation == gen {
			vs.ok(Purged, "interrupted generation %d purged and verified; %d written block(s) read erased%s", gen, checked, also)
			return
		}
	}
	vs.fail(Purged, "interrupted generation %d was not reported purge-verified", gen)
}

// checkReinit: the configuration after recovery (got) is the one
// committed with the generation it kept (post): after a purge of an
// interrupted round (pre), that generation's (see committedConfig), not
// the interrupted round's; with nothing to purge, a staged configuration
// is kept, else the committed one stands.
func checkReinit(vs verdicts, pre, post *storeView, got engine.Config, prev, round *generation, damagedBase *storeView) {
	committed := engineConfig(post.state.Config)
	switch {
	case pre.err == nil && pre.pending != nil:
		exp, why, known := committedConfig(post.generation, prev, round, damagedBase)
		if !known {
			vs.fail(Reinit, "after purging generation %d the backup holds generation %d, %s", pre.pending.Generation, post.generation, why)
			return
		}
		if !got.Equal(committed) || !got.Equal(exp) {
			vs.fail(Reinit, "after purging generation %d the configuration is %s; generation %d was committed with %s (%s)",
				pre.pending.Generation, describe(got), post.generation, describe(exp), why)
			return
		}
		vs.ok(Reinit, "purged generation %d; configuration reinitialised to generation %d's (%s): %s", pre.pending.Generation, post.generation, why, describe(got))
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

// committedConfig returns the configuration the oracle expects committed
// with generation gen after the round and its recovery, why, and whether
// gen is a generation they may leave at all.
//
// Without damage before the round, gen is the generation before the round
// (prev) or the round's (round), committed with its configuration. When
// damage before the round destroyed commits (the reference decoder reads
// an older generation from the damaged base, damagedBase, as checkAtomic
// and checkDurable take it), neither stands: gen is then the damaged
// base's committed generation, with the configuration committed with it
// there, or the one the round committed next, with the configuration the
// round ran with (see nextConfig). prev's configuration is then that of a
// generation the damage destroyed, which reinit must not bring back.
func committedConfig(gen uint64, prev, round *generation, damagedBase *storeView) (engine.Config, string, bool) {
	if base := damagedBase; base != nil && base.err == nil && base.generation < prev.number {
		switch gen {
		case base.generation:
			return engineConfig(base.state.Config), "as it survived the damage before the round", true
		case base.generation + 1:
			return nextConfig(base), "the round's, committed after the damage before the round", true
		}
		return engine.Config{}, fmt.Sprintf("neither generation %d (as it survived the damage before the round) nor %d (the round's after it)", base.generation, base.generation+1), false
	}
	switch gen {
	case round.number:
		return round.config, "the round's", true
	case prev.number:
		return prev.config, "the last before the round", true
	}
	return engine.Config{}, fmt.Sprintf("neither generation %d (before the round) nor %d (the round's)", prev.number, round.number), false
}

// nextConfig is the configuration a round run on base commits: the one
// staged after base's last commit, unless an interrupted round is pending
// there, whose purge drops it (docs/DESIGN.md, reinit), leaving the
// committed one.
func nextConfig(base *storeView) engine.Config {
	if base.pending == nil && base.staged != nil {
		return engineConfig(*base.staged)
	}
	return engineConfig(base.state.Config)
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
// round), plus once for each erase of it the faults made fail, loudly or
// silently (faulted: the engine may try again, as the purge's
// erase-and-verify does), once for each program into it the faults made
// fail or weak (faulted: flash cannot program a page twice, so the block
// is erased before it is written again — a journal block whose first
// program did not read back, a chunk re-programmed after a weak read-back,
// a journal block the recovery writes after the round's program failed
// there), once for each power cut in the phase (cuts: a purge cut
// before its mark is done again, erases first, at the next start), and
// once for each phase in which the faults failed every one of the
// method's EraseTries erases of some block (exhausted, see
// exhaustedErases: the purge cannot finish in that phase and is done
// again, erases first, at the next start, as after a cut). Each faulted
// operation allows one erase of its own blocks only, and no block is
// erased more than wearCeiling times in the phase, however many faults
// fired: the method's retries are bounded.
func checkWear(vs verdicts, writes, faulted []faults.Op, cuts, exhausted int, eraseSize int64, phase string) {
	allowed := map[int64]int{}
	for _, op := range faulted {
		for off := range blocksOf(op, eraseSize) {
			allowed[touchKey(chipOf(op), off)]++
		}
	}
	count := make(map[int64]int, len(writes)) // by touchKey
	for _, op := range writes {
		if op.Kind != faults.Erase {
			continue
		}
		for off := range blocksOf(op, eraseSize) {
			k := touchKey(chipOf(op), off)
			base := WearBound + cuts + exhausted
			if ceiling := wearCeiling(base); count[k]+1 > ceiling {
				vs.fail(BoundedWear, "%v block at %#x erased %d times in the %s (ceiling %d whatever the faults: %d erase(s) of the phase (%d, one more per power cut (%d) and per phase whose faults failed every erase try of a block (%d)), each a write of at most %d programs after at most %d erases each)",
					op.Role, off, count[k]+1, phase, ceiling, base, WearBound, cuts, exhausted, ProgramTries, EraseTries)
				return
			}
			if bound := base + allowed[k]; count[k]+1 > bound {
				vs.fail(BoundedWear, "%v block at %#x erased %d times in the %s (bound %d: %d, one more per erase or program of it the faults failed or left weak (%d), per power cut (%d) and per phase whose faults failed every erase try of a block (%d))",
					op.Role, off, count[k]+1, phase, bound, WearBound, allowed[k], cuts, exhausted)
				return
			}
			count[k]++
		}
	}
	vs.ok(BoundedWear, "%d block(s) erased in the %s, none more than %d times (and once more per erase or program the faults failed or left weak, per power cut: %d, and per phase whose faults failed every erase try of a block: %d; never more than %d)", len(count), phase, WearBound, cuts, exhausted, wearCeiling(WearBound+cuts+exhausted))
}

// EraseTries is how many erases of one block the method makes before the
// write or purge fails for good (docs/FORMAT.md, Verifying programs and
// erases: at most three erases, then the write fails).
const EraseTries = 3

// ProgramTries is how many programs of one write the method makes before
// the write fails for good (docs/FORMAT.md, Verifying programs and
// erases: journal records, "at most three programs"; a chunk, "after
// three programs the round fails"): maxReprograms more tries after the
// first.
const ProgramTries = 3

// wearCeiling is the most erases of one block a phase may make however
// many of its operations the faults failed or left weak: each of the
// erases the phase makes without faults (WearBound, one more per power
// cut and per phase whose erases were exhausted, the base) belongs to one
// write, which takes at most ProgramTries programs, each after at most
// EraseTries erases of the block. A writer whose retries do not stop
// (docs/FORMAT.md, Verifying programs and erases) passes the
// once-more-per-fault allowance, as long as the faults go on, but not this.
func wearCeiling(base int) int { return base * ProgramTries * EraseTries }

// exhaustedErases returns 1 if, among the faulted writes of one phase
// (faultedWrites of that phase's injector), the faults made at least
// EraseTries erases of one block fail, loudly or silently, else 0. No
// engine can then erase that block in the phase: a purge that names it
// fails without its mark, and the next start purges the round again,
// erasing each of its blocks once more. Fewer failed erases of a block do
// not count: the method's tries are there to get past them.
func exhaustedErases(faulted []faults.Op, eraseSize int64) int {
	failed := map[int64]int{}
	for _, op := range faulted {
		if op.Kind != faults.Erase {
			continue
		}
		for off := range blocksOf(op, eraseSize) {
			k := touchKey(chipOf(op), off)
			if failed[k]++; failed[k] >= EraseTries {
				return 1
			}
		}
	}
	return 0
}

// faultedWrites lists the erases whose failure (loud or silent) and the
// programs whose failure or weakness the injector's schedule decided: each
// may make the engine erase the block once more (see checkWear).
func faultedWrites(in *faults.Injector) []faults.Op {
	var out []faults.Op
	for _, f := range in.Fired() {
		switch f.Action.(type) {
		case faults.SilentErase:
			if f.Op.Kind == faults.Erase {
				out = append(out, f.Op)
			}
		case faults.Fail:
			if f.Op.Kind == faults.Erase || f.Op.Kind == faults.Program {
				out = append(out, f.Op)
			}
		case faults.Weak:
			if f.Op.Kind == faults.Program {
				out = append(out, f.Op)
			}
		}
	}
	return out
}

// describe formats the parts of a configuration a scenario sets.
func describe(c engine.Config) string {
	return fmt.Sprintf("{types=%s interval=%v threshold=%v}", info.FormatList(c.Types), c.Interval, c.Threshold)
}
