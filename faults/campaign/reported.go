package campaign

import (
	"github.com/cmcsync/cmcsync/sync/engine"
)

// checkRecoveryReported: the recovery tells the truth about what it found
// (part of the purged invariant; it only fails, so that a passing verdict
// keeps checkPurged's words). The engine opened on the chips reports each
// interrupted round it found as one recovery: its counter
// (Status.Counters.Recoveries) equals its recovery events, it is at least
// one when the reference decoder read an interrupted round pending on the
// backup before the recovery (preBackup), and zero when it read none on
// either chip (prePrimary, preBackup). The reference part is left out
// when the chips hold unstable cells (the engine may have read them
// otherwise), and the whole check after a second boot or another world's
// recovery (the events then come from more than this engine).
func checkRecoveryReported(vs verdicts, prePrimary, preBackup *storeView, rec *recovery, stable, oneEngine bool) {
	if !oneEngine {
		return
	}
	counted := rec.engine.Status().Counters.Recoveries
	events := int64(0)
	for _, ev := range rec.events {
		if ev.Kind == engine.EventRecovery {
			events++
		}
	}
	switch {
	case counted != events:
		vs.fail(Purged, "the recovery counted %d recoveries (Status.Counters.Recoveries) but reported %d recovery events", counted, events)
	case !stable || preBackup.err != nil || prePrimary.err != nil:
	case preBackup.pending != nil && counted < 1:
		vs.fail(Purged, "interrupted generation %d was pending on the backup before the recovery, but the recovery reported %d recoveries", preBackup.pending.Generation, counted)
	case preBackup.pending == nil && prePrimary.pending == nil && counted != 0:
		vs.fail(Purged, "no interrupted round was pending on either chip before the recovery, but the recovery reported %d recoveries", counted)
	}
}

// counted is what one phase of an engine shows: the change of the
// engine's counters (Status.Counters) across the phase, the events the
// engine raised in it, and the round it ran (nil for an open, which runs
// none). phase names it in a failure.
type counted struct {
	phase  string
	delta  engine.Counters
	events []engine.Event
	round  *engine.RoundReport
}

// countedSince is what e shows since the counters were before and its
// event log held n events.
func countedSince(phase string, e *engine.Engine, before engine.Counters, n int, round *engine.RoundReport) counted {
	evs := e.Events()
	return counted{phase: phase, delta: subCounters(e.Status().Counters, before), events: evs[min(n, len(evs)):], round: round}
}

// subCounters returns a - b, counter by counter.
func subCounters(a, b engine.Counters) engine.Counters {
	return engine.Counters{
		Rounds: a.Rounds - b.Rounds, Commits: a.Commits - b.Commits, NothingChanged: a.NothingChanged - b.NothingChanged,
		Interrupts: a.Interrupts - b.Interrupts, Failovers: a.Failovers - b.Failovers, Purges: a.Purges - b.Purges,
		Recoveries: a.Recoveries - b.Recoveries, Errors: a.Errors - b.Errors, PrimaryCorrupt: a.PrimaryCorrupt - b.PrimaryCorrupt,
		TableFallbacks: a.TableFallbacks - b.TableFallbacks, ChangeTableFaults: a.ChangeTableFaults - b.ChangeTableFaults,
		RestoreFailures: a.RestoreFailures - b.RestoreFailures,
	}
}

// failedOutcome: a round of this outcome is a failure in docs/API.md's
// counters ("failures": rounds interrupted or failed): interrupted and
// failover rounds were interrupted, error and restore-pending rounds
// failed (a flash error; a failover's restore retried in vain). A
// committed, nothing-changed or upgrade-pending round did not fail.
func failedOutcome(outcome string) bool {
	switch outcome {
	case engine.OutcomeInterrupted, engine.OutcomeFailover, engine.OutcomeError, engine.OutcomeRestorePending:
		return true
	}
	return false
}

// checkCounted: an engine tells the truth in its counters
// (Status.Counters, which the daemon keeps as the status's and the
// metrics' totals, docs/API.md): over each phase — the round's engine
// opening, its round, the recovery's open, the live round — every
// counter moves by what the phase shows.
//
//   - Each failover, primary-corrupt alarm, failed restore, interruption,
//     commit and change-table fault counted is one event of its kind
//     raised in the phase, and the reverse.
//   - Recoveries are the interrupted rounds an open found (docs/DESIGN.md,
//     Purged: one recovery, counter and event, per interrupted round): at
//     an open one per recovery event; a round counts none (its recovery
//     events — a failover's restore or a restore-defaults redone before
//     it — are no interrupted round found).
//   - Purges (API: interrupted rounds purged, the recovery's purge too):
//     at least one per purge event; a purge that failed (power cut,
//     flash error: an error event, no purge event) may count too, so at
//     most one more per error event.
//   - A round counts one round whatever its outcome (API: "rounds of any
//     outcome"), an open none; one failure (Errors; API "failures":
//     rounds interrupted or failed, "an interrupted round counts once")
//     if its outcome is a failure (failedOutcome), none otherwise; one
//     nothing-changed round if that is its outcome; at most one table
//     fallback per type it read whole (RoundReport.ReadWhole: a type
//     read whole counts one only when the region keeps a table for it,
//     docs/DESIGN.md).
//   - An open runs no round, so the API's failures do not cover it, but
//     the engine counts an error its open ends with (a failover's restore
//     retried at open and failing again: restore-failed; a purge failing:
//     error) in the same counter the daemon shows as failures: at most one
//     per error or restore-failed event of the open, none without one.
//
// The events are what the other checks judge against the injector's
// trace (judgeFailover: a failover iff one was due; checkDurable: what
// was reported committed; checkPurged, checkRecoveryReported), so
// counters that agree with them agree with the trace. Each disagreement
// fails the invariant the counter is about; the check only fails
// (passing verdicts keep the other checks' words).
func checkCounted(vs verdicts, c counted) {
	count := func(k engine.EventKind) int64 {
		n := int64(0)
		for _, ev := range c.events {
			if ev.Kind == k {
				n++
			}
		}
		return n
	}
	d := &c.delta
	recoveries := count(engine.EventRecovery)
	if c.round != nil {
		recoveries = 0
	}
	for _, p := range []struct {
		inv     string
		name    string
		counted int64
		want    int64
		kind    engine.EventKind
	}{
		{Failover, "failovers", d.Failovers, count(engine.EventFailover), engine.EventFailover},
		{Failover, "primary-corrupt alarms", d.PrimaryCorrupt, count(engine.EventPrimaryCorrupt), engine.EventPrimaryCorrupt},
		{Failover, "failed restores", d.RestoreFailures, count(engine.EventRestoreFailed), engine.EventRestoreFailed},
		{InterruptBound, "interruptions", d.Interrupts, count(engine.EventInterrupt), engine.EventInterrupt},
		{Durable, "commits", d.Commits, count(engine.EventCommit), engine.EventCommit},
		{Purged, "recoveries", d.Recoveries, recoveries, engine.EventRecovery},
		{Live, "change-table faults", d.ChangeTableFaults, count(engine.EventChangeTable), engine.EventChangeTable},
	} {
		if p.counted != p.want {
			vs.fail(p.inv, "%s counted %d %s (Status.Counters) but reported %d %s events (%d counted)", c.phase, p.counted, p.name, count(p.kind), p.kind, p.want)
		}
	}
	errs := count(engine.EventError)
	if purges := count(engine.EventPurge); d.Purges < purges || d.Purges > purges+errs {
		vs.fail(Purged, "%s counted %d purges (Status.Counters) but reported %d purge events and %d error events", c.phase, d.Purges, purges, errs)
	}
	var rounds, failures, unchanged, whole int64
	outcome := "no round"
	if r := c.round; r != nil {
		outcome = "outcome " + r.Outcome
		rounds, whole = 1, int64(len(r.ReadWhole))
		if failedOutcome(r.Outcome) {
			failures = 1
		}
		if r.Outcome == engine.OutcomeNothingChanged {
			unchanged = 1
		}
	} else if d.Errors >= 0 && d.Errors <= errs+count(engine.EventRestoreFailed) {
		failures = d.Errors // an open's own errors, each reported
	}
	for _, p := range []struct {
		name          string
		counted, want int64
	}{
		{"rounds", d.Rounds, rounds},
		{"failures (Errors)", d.Errors, failures},
		{"nothing-changed rounds", d.NothingChanged, unchanged},
	} {
		if p.counted != p.want {
			vs.fail(Live, "%s counted %d %s (Status.Counters) but ran %s and reported %d error events: want %d", c.phase, p.counted, p.name, outcome, errs, p.want)
		}
	}
	if d.TableFallbacks < 0 || d.TableFallbacks > whole {
		vs.fail(Live, "%s counted %d table fallbacks (Status.Counters) but read %d types whole (%s)", c.phase, d.TableFallbacks, whole, outcome)
	}
}
