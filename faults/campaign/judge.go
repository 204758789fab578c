package campaign

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// trial is the state of one run once its faults have struck, handed to the
// oracle: the chips hold what the faults left.
type trial struct {
	testCase Case
	// preEvents are the events the engine reported before the power
	// was lost (a failover reported then must survive).
	preEvents []engine.Event
	// writes are the programs and erases the round and any cut recovery
	// issued before the cut, the torn one included; roundWrites are the
	// round's alone (indexes count the round's operations from 0, as
	// answers do).
	writes, roundWrites []faults.Op
	// answers are how the round's operations ended, in order (from the
	// injector's trace: faults.Answer): those of the primary at least.
	answers []faults.Answer
	// firstPre is the backup store as the reference decoder read it right
	// after the fault, before any recovery (nil when a torn area is
	// unstable, since then any one read of it is as good as another).
	firstPre *storeView
	// powerLost: a cut or torn operation ended the round.
	powerLost bool
	// damage is what the harness damaged behind the engine's back
	// (before the round, in it, in a cut recovery); damagedBase is the
	// backup store as the reference decoder read it after the damage done
	// before the round (nil if none was), and damagedSnap the backup chip
	// as it was then.
	damage      []damage
	damagedBase *storeView
	damagedSnap *sim.Snapshot
	// roundErr is what the round returned.
	roundErr error
	// roundCounted is what the round's engine showed at its open and in
	// its round (checkCounted; nil if it did not open, or the trial was
	// built without it).
	roundCounted []counted
	// roundDamage is the round's engine's Status.Damage: what its open
	// found (findingsreported.go).
	roundDamage []string
	// faultedWrites are the erases and programs (of the round and a
	// faulted recovery) whose failure or weakness the schedules decided
	// (faultedWrites); cuts counts the power cuts (in the round and in a
	// faulted recovery); exhausted counts the phases (the round, a
	// faulted recovery) whose faults failed every erase try of a block
	// (exhaustedErases).
	faultedWrites []faults.Op
	cuts          int
	// backupFaults are the round's backup operations whose outcome the
	// schedule decided against the engine (backupFaults).
	backupFaults []faults.Op
	// roundFaulted are those of faultedWrites the round issued (indexes
	// as in roundWrites).
	roundFaulted []faults.Op
	exhausted    int
	// roundFired are the faults the round's schedule fired (see
	// checkRetriedCommit).
	roundFired []faults.Fired
	// recordRecovery, if set, sees each operation of the recovery.
	recordRecovery faults.Trace
	// tamper, if set, makes the state wrong before the checks (the
	// oracle's self-test).
	tamper *tamper
	// external, if set, is the recovery another world ran on these chips
	// (see world.go): the oracle takes its result instead of recovering.
	external *externalRecovery
	// secondBoot: once the recovery ran, the oracle opens the engine
	// afresh on the recovered chips (a second boot) and runs the live
	// round on that engine, as it must after another world's recovery;
	// JudgeWorld sets it on the simulator's side so that both worlds'
	// live rounds start from an engine that read the chips.
	secondBoot bool
	// observe, if set, sees the chips once the recovery ran, before the
	// checks.
	observe func(w *worker)
}

// judge runs a clean recovery on the chips, checks the invariants, then
// the live round, and returns a verdict per invariant (docs/DESIGN.md,
// Invariants). A check's failure stands even if a later check passes the
// same invariant.
func (w *worker) judge(ctx context.Context, t *trial) []Verdict {
	w.stable = !hasUnstable(t.testCase.Round) && !hasUnstable(t.testCase.Recovery)
	vs := verdicts{}
	// Room for the recovery's writes (a purge, a few journal records)
	// without growing the copy.
	writes := append(make([]faults.Op, 0, len(t.writes)+256), t.writes...)
	pre := w.view(1, writes)
	prePrimary := w.view(0, writes)
	w.checkFailoverRestored(vs, t, pre)
	checkSuperblockVerified(vs, t, pre)
	w.checkReadOnlyOpen(ctx, vs, pre, t)
	rec, err := w.recover(ctx, t, &writes)
	if why := w.refusable(t); why != "" && t.roundErr != nil && !w.storesWritten(writes) {
		w.judgeRefusal(vs, t, rec, writes, why)
		return vs.all()
	}
	if err != nil {
		vs.fail(Live, "recovery failed: engine.Open: %v", err)
		return vs.all()
	}
	defer rec.engine.Release()
	if st := w.story; st != nil {
		st.RecoveryEvents = rec.events
		due, longest := failoverDue(t.answers, w.bench.threshold())
		st.FailoverDue = due
		if longest != nil {
			st.Wait = longest.String()
		}
		for i, d := range t.damage {
			if i == 8 {
				st.Damage = append(st.Damage, fmt.Sprintf("and %d more ranges", len(t.damage)-8))
				break
			}
			st.Damage = append(st.Damage, d.String())
		}
	}
	if t.observe != nil {
		t.observe(w)
	}
	if t.tamper != nil && t.tamper.afterRecovery != nil {
		if err := t.tamper.afterRecovery(w, t, rec, &writes); err != nil {
			vs.fail(Live, "self-test: could not make the state wrong: %v", err)
			return vs.all()
		}
	}
	w.setTouched(writes)
	post := w.view(1, writes)
	if post.err != nil {
		vs.fail(Atomic, "the reference decoder cannot read the backup store after recovery: %v", post.err)
		return vs.all()
	}
	b := w.bench
	reported := damageReported(rec.engine, t.preEvents, rec.events)
	w.checkAtomic(vs, t, post, reported)
	checkFindingsReported(vs, t.damagedBase, t.roundDamage, w.stable && t.tamper == nil)
	checkDurable(vs, b.prevGen.number, reportedCommit(t.preEvents), t.damagedBase, t.firstPre, post)
	w.checkPurged(vs, pre, post, writes, writes[len(t.writes):], t.faultedWrites, rec.events)
	checkRecoveryReported(vs, prePrimary, pre, rec, w.stable, !t.secondBoot && t.external == nil)
	checkReinit(vs, pre, post, rec.engine.Config(), b.prevGen, b.roundGen, t.damagedBase)
	// The last committed generation: after a failover the active chip's
	// information must equal it, and so must the backup after the live
	// round.
	last := w.lastCommitted(t, post)
	excuse := reported
	if t.roundErr != nil {
		excuse = append(excuse, "the round reported an error: "+t.roundErr.Error())
	}
	damaged := w.damagedTypes(t, post, excuse)
	for _, c := range t.roundCounted {
		checkCounted(vs, c)
	}
	checkCounted(vs, rec.opened)
	checkStoppedReported(vs, t)
	checkEraseTriesReported(vs, t)
	checkRetriedCommit(vs, t, b.roundGen.number, b.eraseSize)
	checkCorruptAnswered(vs, t.preEvents, t.answers, t.powerLost, b.threshold())
	judgeFailover(vs, w.failoverFacts(t, rec, writes, last, w.restoreExcused(rec.engine.Status(), last, post, damaged)), b.threshold())
	// Chip A was the primary while the round ran.
	w.checkPrimary(vs, writes, 0, b.primaryBaseStats)
	checkInterruptBound(vs, t.answers, t.roundWrites, t.roundFaulted, post.dataOff, post.dataSize, b.eraseSize, b.threshold(), b.interruptBound)
	checkWear(vs, writes, t.faultedWrites, t.cuts, t.exhausted, b.eraseSize, "round and recovery")
	w.checkRecoveryCost(vs, t, pre, post, writes, writes[len(t.writes):])
	w.checkRoundPolicy(vs, t, post)
	w.healPrimary()
	if t.tamper != nil && t.tamper.beforeLive != nil {
		if err := t.tamper.beforeLive(w); err != nil {
			vs.fail(Live, "self-test: could not make the state wrong: %v", err)
			return vs.all()
		}
	}
	cost := vs[BoundedCost]
	w.checkLive(ctx, vs, rec, writes, last, liveRestore{post: post, damaged: damaged, runDamaged: len(t.damage) > 0 || len(t.testCase.Before.Rules) > 0})
	joinCost(vs, cost)
	return vs.all()
}

// recovery is the engine the oracle opened on what the chips hold
// (engine.Open runs recovery); the live round then runs on it.
type recovery struct {
	engine *engine.Engine
	// events are the events the engine reported while it recovered.
	events []engine.Event
	// sink receives the programs and erases the engine issues, without
	// their data: the recovery's go after the trial's writes, then
	// checkLive points it at the live round's own list.
	sink *[]faults.Op
	// opsHash fingerprints the recovery's operations (kind, role and
	// range). It goes into the live round's memo key: two recoveries that
	// leave the same contents by different paths may leave different
	// engine state in memory (which blocks it believes erased).
	opsHash maphash.Hash
	tracing bool // while the recovery runs
	// record, if set, sees each operation of the recovery
	// (trial.recordRecovery).
	record faults.Trace
	// opened is what the engine showed at its open (checkCounted; the
	// second boot's engine's, after a second boot).
	opened counted
}

// recover opens the engine on the chips through an injector without
// faults that traces every operation; writes receives the recovery's
// programs and erases.
func (w *worker) recover(ctx context.Context, t *trial, writes *[]faults.Op) (*recovery, error) {
	rec := &recovery{sink: writes, tracing: true, record: t.recordRecovery}
	rec.opsHash.SetSeed(hashSeed)
	if t.external != nil {
		if err := w.applyExternal(t.external, writes); err != nil {
			return nil, err
		}
	}
	in := faults.NewInjector(faults.Schedule{}, faults.Options{SplitPages: true, Clock: w.clock, Trace: rec.trace})
	e, err := w.bench.open(ctx, in.Wrap(w.chips[0], faults.Primary), in.Wrap(w.chips[1], faults.Backup), w.clock, w.bench.mutant)
	if err != nil {
		return nil, err
	}
	rec.events = e.Events()
	if t.secondBoot {
		e.Release()
		if e, err = w.bench.open(ctx, in.Wrap(w.chips[0], faults.Primary), in.Wrap(w.chips[1], faults.Backup), w.clock, w.bench.mutant); err != nil {
			return nil, fmt.Errorf("second boot: %w", err)
		}
		rec.events = append(rec.events, e.Events()...)
	}
	rec.tracing = false
	rec.engine = e
	rec.opened = countedSince("the recovery's engine at its open", e, engine.Counters{}, 0, nil)
	if t.external != nil {
		t.external.hostWrites = len(*writes) - t.external.writesAfter
		rec.events = append(append([]engine.Event(nil), t.external.events...), rec.events...)
	}
	return rec, nil
}

// trace is the recovery's faults.Trace.
func (rec *recovery) trace(op faults.Op) {
	if rec.tracing {
		if rec.record != nil {
			rec.record(op)
		}
		var b [24]byte
		binary.LittleEndian.PutUint64(b[:], uint64(op.Kind)<<8|uint64(op.Role))
		binary.LittleEndian.PutUint64(b[8:], uint64(op.Off))
		binary.LittleEndian.PutUint64(b[16:], uint64(op.Len))
		rec.opsHash.Write(b[:])
	}
	if op.Kind != faults.Read {
		op.Data = nil
		*rec.sink = append(*rec.sink, op)
	}
}
