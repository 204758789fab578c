package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// Replay runs one case from the scenario's base, without branching: the
// round under the round schedule, a recovery under the recovery schedule
// (if it cuts power, a second, clean recovery follows), then the oracle.
// It returns every invariant's verdict.
func Replay(ctx context.Context, c Case) ([]Verdict, error) {
	st, err := ReplayStory(ctx, c)
	if err != nil {
		return nil, err
	}
	return st.Verdicts, nil
}

// phaseRun is one phase (the round, or a recovery) run on the chips
// wrapped by an injector: the operations it traced, the time just before
// each that a cut or torn rule matches, and, once finished, the writes
// issued before power was lost (the torn one included), whether it was,
// and the time just before the cut.
type phaseRun struct {
	injector *faults.Injector
	ops      []faults.Op
	times    []timedOp
	// answers are how the phase's operations on the primary ended; in a
	// branched round they follow those of the recorded first half, in
	// prefix.
	answers []faults.Answer
	prefix  []faults.Answer
	// before is the damage done before the round (Case.Before), and
	// damagedBase the backup store as the reference decoder read it
	// after that damage (nil without one).
	before      []damage
	damagedBase *storeView
	damagedSnap *sim.Snapshot
	// report and err are what the round returned.
	report engine.RoundReport
	err    error
	// opened are the round's engine's counters right after its open, and
	// openEvents how many events it had raised then (checkCounted).
	opened     engine.Counters
	openEvents int
	writes     []faults.Op
	cut        bool
	cutAt      int64 // the index of the cut or torn operation
	cutTime    time.Time
}

// newPhase wraps the worker's chips in an injector of s that traces
// every operation from index start on, and keeps the primary's answers
// (the oracle judges no other: a failover restore after the round answers
// tens of thousands of programs of the backup).
//
// The phase's trace goes to the worker's buffers of that kind of phase
// (roundPhase or recoveryPhase), reused from case to case: a failover
// restore traces tens of thousands of page programs, and growing fresh
// slices for them cost more than the rest of the tracing. Nothing keeps
// a phase's ops or times beyond the case.
func (w *worker) newPhase(kind int, s faults.Schedule, disarmed bool, start int64) (*phaseRun, hal.Flash, hal.Flash) {
	buf := &w.phaseBufs[kind]
	ph := &phaseRun{ops: buf.ops[:0]}
	defer func() { buf.owner = ph }()
	// Only a cut or torn operation's time is needed (finish), and such an
	// operation matches the predicate of a cut or torn rule (predicates
	// are functions of the operation alone): the trace reads the clock for
	// those only.
	var cutRules []faults.Pred
	for _, r := range s.Rules {
		switch r.Do.(type) {
		case faults.Cut, faults.Torn:
			cutRules = append(cutRules, r.When)
		}
	}
	ph.injector = faults.NewInjector(s, faults.Options{SplitPages: true, Clock: w.clock, Disarmed: disarmed, StartIndex: start, Trace: func(op faults.Op) {
		op.Data = nil
		ph.ops = append(ph.ops, op)
		if buf.owner == ph {
			buf.ops = ph.ops // keep what grew
		}
		for _, p := range cutRules {
			if p.Match(op) {
				ph.times = append(ph.times, timedOp{op.Index, w.clock.Now()})
				break
			}
		}
	}, Answered: func(a faults.Answer) {
		if a.Op.Role == faults.Primary {
			ph.answers = append(ph.answers, a)
		}
	}})
	return ph, ph.injector.Wrap(w.chips[0], faults.Primary), ph.injector.Wrap(w.chips[1], faults.Backup)
}

// The kinds of phase, each with its trace buffers (worker.phaseBufs).
const (
	roundPhase = iota
	recoveryPhase
)

// phaseBufs are a worker's reused trace buffers of one kind of phase;
// owner is the phase using them now.
type phaseBufs struct {
	ops   []faults.Op
	owner *phaseRun
}

// timedOp is the time just before the operation numbered index.
type timedOp struct {
	index int64
	time  time.Time
}

// finish works out what the phase did up to the power cut, if any.
func (ph *phaseRun) finish() {
	cutAt := int64(-1)
	torn := false
	for _, f := range ph.injector.Fired() {
		switch f.Action.(type) {
		case faults.Cut:
			cutAt = f.Op.Index
		case faults.Torn:
			cutAt, torn = f.Op.Index, true
		}
		if cutAt >= 0 {
			break
		}
	}
	ph.cut, ph.cutAt = cutAt >= 0, cutAt
	if ph.cut {
		for _, t := range ph.times {
			if t.index == cutAt {
				ph.cutTime = t.time
				break
			}
		}
	}
	// Counted first, then copied into a slice of that size: a failover's
	// restore traces tens of thousands of programs, and growing the slice
	// for them cost more than the copy.
	kept := func(op faults.Op) bool {
		return op.Kind != faults.Read && (!ph.cut || op.Index < cutAt || (op.Index == cutAt && torn))
	}
	n := 0
	for _, op := range ph.ops {
		if kept(op) {
			n++
		}
	}
	if n == 0 {
		return
	}
	ph.writes = make([]faults.Op, 0, n)
	for _, op := range ph.ops {
		if kept(op) {
			ph.writes = append(ph.writes, op)
		}
	}
}

// hasUnstable reports whether s may leave cells that read differently
// from read to read: torn operations with unstable reads, weak programs,
// faded cells.
func hasUnstable(s faults.Schedule) bool {
	for _, r := range s.Rules {
		switch a := r.Do.(type) {
		case faults.Torn:
			if a.Unstable {
				return true
			}
		case faults.Weak, faults.Fade:
			return true
		}
	}
	return false
}

// phaseDamage ends phase ph for its weak programs (those not read yet
// read differently from now on, see faults.Injector.ExpireWeak) and
// returns the damage the harness did in it, noting its blocks
// (worker.harness).
func (w *worker) phaseDamage(ph *phaseRun) []damage {
	ph.injector.ExpireWeak()
	ds := damageOf(ph.injector, false)
	w.noteDamage(ds)
	return ds
}

// replay runs c from the base on the worker's chips.
func (w *worker) replay(ctx context.Context, c Case) (result, error) {
	b := w.bench
	w.noteCase(c)
	if c.Scenario != b.scenario.Name || c.Seed != b.seed || c.Mutant != b.mutant {
		return result{}, fmt.Errorf("case %q is for another bench (%s seed=%d mutant=%s)", c, b.scenario.Name, b.seed, b.mutant)
	}
	if err := c.Round.Validate(); err != nil {
		return result{}, err
	}
	w.chips[0].Restore(b.base[0])
	w.chips[1].Restore(b.base[1])
	w.clock.set(b.baseTime)
	w.harness = w.harness[:0]
	before, err := w.applyBefore(c.Before)
	if err != nil {
		return result{}, err
	}
	ph, wa, wb := w.newPhase(roundPhase, c.Round, true, 0)
	if len(before) > 0 {
		w.noteDamage(before)
		w.stable = true
		ph.before, ph.damagedBase, ph.damagedSnap = before, w.view(1, nil), w.chips[1].Snapshot()
	}
	e, err := b.open(ctx, wa, wb, w.clock, b.mutant)
	if err != nil {
		// The engine refuses the pair: that is the round's outcome.
		ph.err = fmt.Errorf("open: %w", err)
		return w.afterRound(ctx, c, nil, ph)
	}
	ph.opened, ph.openEvents = e.Status().Counters, len(e.Events())
	ph.injector.Arm()
	rctx, stop := ph.injector.Context(ctx) // a Cancel rule stops the round
	ph.report, ph.err = e.Round(rctx)
	stop()
	return w.afterRound(ctx, c, e, ph)
}

// runCase runs c by branching (applyBranch) when no rule of its round
// schedule matches an operation of the recorded round before the split:
// up to there the faulted round does exactly what the recorded one did
// (every predicate is a function of the operation alone). Otherwise it
// replays c from the base.
func (w *worker) runCase(ctx context.Context, c Case) (result, error) {
	b := w.bench
	w.lastRun = ranReplay
	if b.prepared == nil || c.Scenario != b.scenario.Name || c.Seed != b.seed || c.Mutant != b.mutant || c.Round.Validate() != nil {
		return w.replay(ctx, c) // which reports what is wrong
	}
	if len(c.Before.Rules) > 0 {
		return w.replay(ctx, c) // the engine opens on damaged chips
	}
	for _, st := range b.steps[:b.split] {
		for _, r := range c.Round.Rules {
			if r.When.Match(st.op) {
				return w.replay(ctx, c)
			}
		}
	}
	w.lastRun = ranBranch
	return w.applyBranch(ctx, c)
}

// How runCase ran the last case (worker.lastRun).
const (
	ranReplay = iota // from the base
	ranBranch        // from the recorded round's first half (applyBranch)
)

// applyBranch runs c, whose round schedule strikes only operations of the
// round's second half (from b.split on), by branching: an engine opened on
// the base applies the recorded round's first half (engine.Prepared) on
// the chips as they were at the split, instead of reading the information
// region again. TestAnomalyBranchEqualsReplay and
// TestRandomBranchEqualsReplay prove it the same as a replay.
func (w *worker) applyBranch(ctx context.Context, c Case) (result, error) {
	b := w.bench
	w.noteCase(c)
	w.chips[0].Restore(b.base[0])
	w.chips[1].Restore(b.base[1])
	w.clock.set(b.baseTime)
	w.harness = w.harness[:0]
	ph, wa, wb := w.newPhase(roundPhase, c.Round, true, int64(b.split))
	e, err := b.open(ctx, wa, wb, w.clock, b.mutant)
	if err != nil {
		return result{}, fmt.Errorf("branch: open before the round: %w", err)
	}
	ph.opened, ph.openEvents = e.Status().Counters, len(e.Events())
	s := b.steps[b.split]
	w.chips[0].Restore(s.snapshots[0])
	w.chips[1].Restore(s.snapshots[1])
	w.clock.set(s.time)
	ph.prefix = b.answers[:b.split:b.split]
	ph.injector.Arm()
	rctx, stop := ph.injector.Context(ctx) // a Cancel rule stops the round
	defer stop()
	if ph.report, ph.err = e.Apply(rctx, b.prepared); errors.Is(ph.err, engine.ErrStale) {
		return result{}, fmt.Errorf("branch: %w", ph.err)
	}
	return w.afterRound(ctx, c, e, ph)
}

// afterRound judges c once its round ran on engine e under phase ph (e is
// nil if the engine refused to open): it runs the recovery schedule, if
// any, and the oracle.
func (w *worker) afterRound(ctx context.Context, c Case, e *engine.Engine, ph *phaseRun) (result, error) {
	b := w.bench
	ph.finish()
	if err := ph.injector.Err(); err != nil {
		return result{}, fmt.Errorf("replay: %w", err)
	}
	var events []engine.Event
	var roundCounted []counted
	var roundDamage []string
	if e != nil {
		events = e.Events()
		st := e.Status()
		roundDamage = append([]string{}, st.Damage...)
		var rep *engine.RoundReport
		if ph.report.Outcome != "" {
			rep = &ph.report
		}
		roundCounted = []counted{
			{phase: "the round's engine at its open", delta: ph.opened, events: events[:ph.openEvents]},
			{phase: "the round's engine in its round", delta: subCounters(st.Counters, ph.opened), events: events[ph.openEvents:], round: rep},
		}
	}
	t := &trial{testCase: c, preEvents: events, writes: ph.writes, roundWrites: ph.writes, powerLost: ph.cut,
		answers: append(ph.prefix, ph.answers...), tamper: w.tamper, damagedBase: ph.damagedBase, damagedSnap: ph.damagedSnap, roundErr: ph.err, roundCounted: roundCounted, roundDamage: roundDamage}
	t.damage = append(ph.before, w.phaseDamage(ph)...)
	t.faultedWrites = faultedWrites(ph.injector)
	t.backupFaults = backupFaults(ph.injector)
	t.roundFired = ph.injector.Fired()
	t.roundFaulted = t.faultedWrites[:len(t.faultedWrites):len(t.faultedWrites)]
	t.exhausted = exhaustedErases(t.faultedWrites, b.eraseSize)
	if ph.cut {
		t.cuts++
	}
	if st := w.story; st != nil {
		st.Round, st.RoundEvents = ph.report, t.preEvents
		for _, op := range ph.ops {
			if !ph.cut || op.Index <= ph.cutAt {
				st.RoundOps++
			}
		}
		st.tellPhase("round", c.Round, ph.ops, ph.injector.Fired())
	}
	points := 1
	if ph.cut {
		w.clock.set(ph.cutTime)
	}
	w.stable = !hasUnstable(c.Round) && !hasUnstable(c.Recovery)
	if !hasUnstable(c.Round) {
		t.firstPre = w.view(1, t.writes)
	}
	if len(c.Recovery.Rules) > 0 {
		rph, ra, rb := w.newPhase(recoveryPhase, c.Recovery, false, 0)
		_, _ = b.open(ctx, ra, rb, w.clock, b.mutant)
		rph.finish()
		if err := rph.injector.Err(); err != nil {
			return result{}, fmt.Errorf("replay: recovery: %w", err)
		}
		t.writes = append(t.writes, rph.writes...)
		t.damage = append(t.damage, w.phaseDamage(rph)...)
		if w.story != nil {
			w.story.tellPhase("recovery", c.Recovery, rph.ops, rph.injector.Fired())
		}
		rf := faultedWrites(rph.injector)
		t.faultedWrites = append(t.faultedWrites, rf...)
		t.exhausted += exhaustedErases(rf, b.eraseSize)
		if rph.cut {
			t.cuts++
			w.clock.set(rph.cutTime)
		}
	}
	return result{testCase: c, points: points, verdicts: w.judge(ctx, t)}, nil
}
