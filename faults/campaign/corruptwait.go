package campaign

import (
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// checkCorruptAnswered: a primary that answered with corrupt information
// answers again only once what read corrupt reads right (part of the
// failover invariant; docs/DESIGN.md, "a corrupt answer counts as no
// answer"). When the round raised the primary-corrupt alarm and then
// stopped as interrupted (no failover, power not lost), the wait the
// corrupt answer opened must have ended: some later answer to the same
// request was correct (everyWait, from the injector's answers alone).
// A wait still open at the round's end means the engine took the primary
// for answering while the bytes it had read corrupt still read corrupt —
// it resumed on a record it never read right again, which a longer round
// would have synced or left unsynced without the alarm's failover. Every
// corrupt answer's wait is judged, also one made while an earlier failed
// request still waited (everyWait; primaryWaits, which the failover's
// timing uses, tracks one open wait at a time). The check only fails, so
// that a passing verdict keeps judgeFailover's words.
func checkCorruptAnswered(vs verdicts, events []engine.Event, answers []faults.Answer, powerLost bool, threshold time.Duration) {
	if powerLost {
		return
	}
	has := func(k engine.EventKind) bool {
		return slices.ContainsFunc(events, func(ev engine.Event) bool { return ev.Kind == k })
	}
	if !has(engine.EventPrimaryCorrupt) || !has(engine.EventInterrupt) || has(engine.EventFailover) {
		return
	}
	for _, w := range everyWait(answers, threshold) {
		if w.from.Corrupted && !w.answered {
			vs.fail(Failover, "the round raised the primary-corrupt alarm and ended interrupted, without a failover, although the wait its corrupt answer opened never ended (%s): the primary was taken for answering while what read corrupt still did", w)
			return
		}
	}
}
