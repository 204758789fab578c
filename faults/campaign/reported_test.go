package campaign

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestCountedMatchesEvents: counters that move by what the phase shows
// (its events, its round's outcome) leave the verdicts alone; each
// counter that disagrees fails the invariant it is about.
func TestCountedMatchesEvents(t *testing.T) {
	events := []engine.Event{{Kind: engine.EventPrimaryCorrupt}, {Kind: engine.EventInterrupt}, {Kind: engine.EventFailover},
		{Kind: engine.EventPurge}, {Kind: engine.EventPurgeVerified}}
	failover := &engine.RoundReport{Outcome: engine.OutcomeFailover}
	agree := engine.Counters{Rounds: 1, Errors: 1, Failovers: 1, PrimaryCorrupt: 1, Interrupts: 1, Purges: 1}
	with := func(f func(c *engine.Counters)) engine.Counters {
		c := agree
		f(&c)
		return c
	}
	unchanged := &engine.RoundReport{Outcome: engine.OutcomeNothingChanged, ReadWhole: engine.TypeList{1, 2}}
	unchangedEvents := []engine.Event{{Kind: engine.EventCommit}}
	unchangedAgree := engine.Counters{Rounds: 1, Commits: 1, NothingChanged: 1, TableFallbacks: 2}
	recovered := []engine.Event{{Kind: engine.EventRecovery}, {Kind: engine.EventPurge}, {Kind: engine.EventPurgeVerified}, {Kind: engine.EventReinit}}
	for _, tc := range []struct {
		name   string
		c      counted
		failed string // "" if no verdict is set
	}{
		{"agree", counted{delta: agree, events: events, round: failover}, ""},
		{"nothing happened at an open", counted{}, ""},
		{"a recovery at an open", counted{delta: engine.Counters{Recoveries: 1, Purges: 1}, events: recovered}, ""},
		{"nothing changed, two types read whole", counted{delta: unchangedAgree, events: unchangedEvents, round: unchanged}, ""},
		{"nothing changed, one table fallback of two types read whole", counted{delta: engine.Counters{Rounds: 1, Commits: 1, NothingChanged: 1, TableFallbacks: 1}, events: unchangedEvents, round: unchanged}, ""},
		{"failover not counted", counted{delta: with(func(c *engine.Counters) { c.Failovers = 0 }), events: events, round: failover}, Failover},
		{"failover counted down", counted{delta: with(func(c *engine.Counters) { c.Failovers = -1 }), events: events, round: failover}, Failover},
		{"alarm not counted", counted{delta: with(func(c *engine.Counters) { c.PrimaryCorrupt = 0 }), events: events, round: failover}, Failover},
		{"restore failure not reported", counted{delta: with(func(c *engine.Counters) { c.RestoreFailures = 1 }), events: events, round: failover}, Failover},
		{"interruption counted twice", counted{delta: with(func(c *engine.Counters) { c.Interrupts = 2 }), events: events, round: failover}, InterruptBound},
		{"commit not reported", counted{delta: engine.Counters{Commits: 1}}, Durable},
		{"purge not counted", counted{delta: with(func(c *engine.Counters) { c.Purges = 0 }), events: events, round: failover}, Purged},
		{"recovery not counted", counted{delta: engine.Counters{Purges: 1}, events: recovered}, Purged},
		{"interrupted round's failure counted down", counted{delta: with(func(c *engine.Counters) { c.Errors = -1 }), events: events, round: failover}, Live},
		{"interrupted round's failure counted twice", counted{delta: with(func(c *engine.Counters) { c.Errors = 2 }), events: events, round: failover}, Live},
		{"failed round not counted a failure", counted{delta: engine.Counters{Rounds: 1}, round: &engine.RoundReport{Outcome: engine.OutcomeError}}, Live},
		{"refused restore not counted a failure", counted{delta: engine.Counters{Rounds: 1, RestoreFailures: 1}, events: []engine.Event{{Kind: engine.EventRestoreFailed}}, round: &engine.RoundReport{Outcome: engine.OutcomeRestorePending}}, Live},
		{"committed round counted a failure", counted{delta: engine.Counters{Rounds: 1, Commits: 1, Errors: 1}, events: []engine.Event{{Kind: engine.EventCommit}}, round: &engine.RoundReport{Outcome: engine.OutcomeCommitted}}, Live},
		{"upgrade-pending round counted a failure", counted{delta: engine.Counters{Rounds: 1, Errors: 1}, round: &engine.RoundReport{Outcome: engine.OutcomeUpgradePending}}, Live},
		{"an open counted a failure", counted{delta: engine.Counters{Errors: 1}}, Live},
		{"an open's failed restore counted a failure", counted{delta: engine.Counters{Errors: 1, RestoreFailures: 1}, events: []engine.Event{{Kind: engine.EventRestoreFailed}}}, ""},
		{"an open counted two failures for one failed restore", counted{delta: engine.Counters{Errors: 2, RestoreFailures: 1}, events: []engine.Event{{Kind: engine.EventRestoreFailed}}}, Live},
		{"an open counted a failure down", counted{delta: engine.Counters{Errors: -1, RestoreFailures: 1}, events: []engine.Event{{Kind: engine.EventRestoreFailed}}}, Live},
		{"a round's recovery event (restore retried) is no recovery", counted{delta: engine.Counters{Rounds: 1, Commits: 1}, events: []engine.Event{{Kind: engine.EventRecovery}, {Kind: engine.EventCommit}}, round: &engine.RoundReport{Outcome: engine.OutcomeCommitted}}, ""},
		{"a round counted a recovery", counted{delta: engine.Counters{Rounds: 1, Commits: 1, Recoveries: 1}, events: []engine.Event{{Kind: engine.EventRecovery}, {Kind: engine.EventCommit}}, round: &engine.RoundReport{Outcome: engine.OutcomeCommitted}}, Purged},
		{"a purge cut by power loss", counted{delta: engine.Counters{Rounds: 1, Errors: 1, Purges: 1, Interrupts: 1}, events: []engine.Event{{Kind: engine.EventInterrupt}, {Kind: engine.EventError}}, round: &engine.RoundReport{Outcome: engine.OutcomeError}}, ""},
		{"a purge counted twice", counted{delta: with(func(c *engine.Counters) { c.Purges = 2 }), events: events, round: failover}, Purged},
		{"round not counted", counted{delta: with(func(c *engine.Counters) { c.Rounds = 0 }), events: events, round: failover}, Live},
		{"an open counted a round", counted{delta: engine.Counters{Rounds: 1}}, Live},
		{"nothing-changed round not counted so", counted{delta: engine.Counters{Rounds: 1, Commits: 1}, events: unchangedEvents, round: unchanged}, Live},
		{"committed round counted nothing-changed", counted{delta: engine.Counters{Rounds: 1, Commits: 1, NothingChanged: 1}, events: unchangedEvents, round: &engine.RoundReport{Outcome: engine.OutcomeCommitted}}, Live},
		{"more table fallbacks than types read whole", counted{delta: engine.Counters{Rounds: 1, Commits: 1, NothingChanged: 1, TableFallbacks: 3}, events: unchangedEvents, round: unchanged}, Live},
		{"table fallbacks counted down", counted{delta: engine.Counters{Rounds: 1, Commits: 1, NothingChanged: 1, TableFallbacks: -1}, events: unchangedEvents, round: unchanged}, Live},
		{"change-table fault not reported", counted{delta: engine.Counters{ChangeTableFaults: 1}}, Live},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := verdicts{}
			checkCounted(vs, tc.c)
			if tc.failed == "" {
				require.Empty(t, vs)
				return
			}
			require.Len(t, vs, 1, "%+v", vs)
			require.False(t, vs[tc.failed].OK, "%+v", vs)
		})
	}
}

// TestCorruptAnswerNeedsACorrectAnswer: after the primary-corrupt alarm an
// interrupted round passes only if the request that read corrupt was
// answered correctly later; a failover, a power loss or no alarm leave the
// verdict to the other checks.
func TestCorruptAnswerNeedsACorrectAnswer(t *testing.T) {
	t0 := time.Unix(0, 0)
	read := func(i, off int64, corrupt bool) faults.Answer {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		return faults.Answer{Op: faults.Op{Index: i, Role: faults.Primary, Kind: faults.Read, Off: off, Len: 16}, Start: at, End: at.Add(time.Microsecond), Corrupted: corrupt}
	}
	corrupt := []faults.Answer{read(0, 0x1000, false), read(1, 0x2000, true), read(2, 0, false), read(3, 0x2000, true), read(4, 0, false)}
	healed := append(corrupt[:4:4], read(4, 0x2000, false))
	// A failed read of 0x1000 opens a wait; the corrupt read of 0x2000
	// comes while it is open; the failed read is then answered, the
	// corrupt one never.
	failed := read(0, 0x1000, false)
	failed.Err = errors.New("timeout")
	behind := []faults.Answer{failed, read(1, 0x2000, true), read(2, 0x1000, false), read(3, 0, false)}
	behindHealed := append(behind[:4:4], read(4, 0x2000, false))
	alarm := []engine.Event{{Kind: engine.EventPrimaryCorrupt}, {Kind: engine.EventInterrupt}}
	for _, tc := range []struct {
		name      string
		events    []engine.Event
		answers   []faults.Answer
		powerLost bool
		fails     bool
	}{
		{"interrupted while the record still reads corrupt", alarm, corrupt, false, true},
		{"interrupted after the record read right", alarm, healed, false, false},
		{"corrupt while an earlier failed read waited, never read right", alarm, behind, false, true},
		{"corrupt while an earlier failed read waited, then read right", alarm, behindHealed, false, false},
		{"failed over", append(alarm, engine.Event{Kind: engine.EventFailover}), corrupt, false, false},
		{"power lost", alarm, corrupt, true, false},
		{"no alarm", []engine.Event{{Kind: engine.EventInterrupt}}, corrupt, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := verdicts{}
			checkCorruptAnswered(vs, tc.events, tc.answers, tc.powerLost, 2*time.Second)
			if !tc.fails {
				require.Empty(t, vs)
				return
			}
			require.False(t, vs[Failover].OK, "%+v", vs)
			require.Contains(t, vs[Failover].Saw, "never ended")
		})
	}
}
