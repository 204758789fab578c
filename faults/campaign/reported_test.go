package campaign

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// TestRoundReportedMatchesEvents: counters that equal the round's events
// leave the verdicts alone; each counter that disagrees fails the
// invariant it is about.
func TestRoundReportedMatchesEvents(t *testing.T) {
	events := []engine.Event{{Kind: engine.EventPrimaryCorrupt}, {Kind: engine.EventInterrupt}, {Kind: engine.EventFailover}}
	agree := engine.Counters{Failovers: 1, PrimaryCorrupt: 1, Interrupts: 1}
	for _, tc := range []struct {
		name     string
		counters *engine.Counters
		events   []engine.Event
		failed   string // "" if no verdict is set
	}{
		{"no engine", nil, events, ""},
		{"agree", &agree, events, ""},
		{"nothing happened", &engine.Counters{}, nil, ""},
		{"failover not counted", &engine.Counters{PrimaryCorrupt: 1, Interrupts: 1}, events, Failover},
		{"failover counted down", &engine.Counters{Failovers: -1, PrimaryCorrupt: 1, Interrupts: 1}, events, Failover},
		{"alarm not counted", &engine.Counters{Failovers: 1, Interrupts: 1}, events, Failover},
		{"interruption counted twice", &engine.Counters{Failovers: 1, PrimaryCorrupt: 1, Interrupts: 2}, events, InterruptBound},
		{"commit not reported", &engine.Counters{Commits: 1}, nil, Durable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := verdicts{}
			checkRoundReported(vs, tc.counters, tc.events)
			if tc.failed == "" {
				require.Empty(t, vs)
				return
			}
			require.Len(t, vs, 1)
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
