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

// checkRoundReported: the round's engine tells the truth in its counters
// (Status.Counters): each failover, interruption, primary-corrupt alarm
// and commit it counted is one it reported as an event, and the reverse.
// The events are what the other checks judge against the injector's
// trace (judgeFailover: a failover iff one was due; checkDurable: what
// was reported committed), so counters that agree with them agree with
// the trace. Each disagreement fails the invariant the counter is about;
// the check only fails (passing verdicts keep the other checks' words).
// counters is nil when the engine did not open for the round.
func checkRoundReported(vs verdicts, counters *engine.Counters, events []engine.Event) {
	if counters == nil {
		return
	}
	count := func(k engine.EventKind) int64 {
		n := int64(0)
		for _, ev := range events {
			if ev.Kind == k {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		inv     string
		name    string
		counted int64
		kind    engine.EventKind
	}{
		{Failover, "failovers", counters.Failovers, engine.EventFailover},
		{Failover, "primary-corrupt alarms", counters.PrimaryCorrupt, engine.EventPrimaryCorrupt},
		{InterruptBound, "interruptions", counters.Interrupts, engine.EventInterrupt},
		{Durable, "commits", counters.Commits, engine.EventCommit},
	} {
		if n := count(c.kind); n != c.counted {
			vs.fail(c.inv, "the round's engine counted %d %s (Status.Counters) but reported %d %s events", c.counted, c.name, n, c.kind)
		}
	}
}
