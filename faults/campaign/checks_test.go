package campaign

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// The checks that need no chips, each shown passing a right state and
// failing a wrong one (those that read the chips fail under the mutants:
// TestEveryMutantIsCaughtAndReplays).

func verdictFor(t *testing.T, inv string, check func(vs verdicts)) Verdict {
	t.Helper()
	vs := verdicts{}
	check(vs)
	require.Len(t, vs, 1, "a check sets its own invariant only")
	v, ok := vs[inv]
	require.True(t, ok)
	return v
}

func TestCheckDurable(t *testing.T) {
	for _, tc := range []struct {
		name           string
		firstPre, post *storeView
		ok             bool
	}{
		{"kept", nil, &storeView{generation: 5}, true},
		{"advanced", nil, &storeView{generation: 6}, true},
		{"lost the committed generation", nil, &storeView{generation: 4}, false},
		{"kept what the backup had before the restart", &storeView{generation: 6}, &storeView{generation: 6}, true},
		{"lost what the backup had before the restart", &storeView{generation: 6}, &storeView{generation: 5}, false},
		{"an unreadable first view sets no floor", &storeView{generation: 9, err: reference.ErrNoCheckpoint}, &storeView{generation: 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verdictFor(t, Durable, func(vs verdicts) { checkDurable(vs, 5, tc.firstPre, tc.post) })
			require.Equal(t, tc.ok, v.OK, v.Saw)
		})
	}
}

func TestCheckReinit(t *testing.T) {
	prevCfg := engine.Config{Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second}
	roundCfg := prevCfg.Clone()
	roundCfg.Interval = time.Minute
	prev := &generation{number: 5, config: prevCfg}
	round := &generation{number: 6, config: roundCfg}
	committed := func(gen uint64, c engine.Config) *storeView {
		v := &storeView{generation: gen}
		v.state.Generation = gen
		v.state.Config = reference.Config{Interval: c.Interval, Threshold: c.Threshold}
		for _, ty := range c.Types {
			v.state.Config.Types = append(v.state.Config.Types, uint8(ty))
		}
		return v
	}
	interrupted := &storeView{pending: &reference.Intent{Generation: 6}}
	staged := &storeView{staged: &reference.Config{Types: []uint8{1}, Interval: time.Minute, Threshold: time.Second}}
	for _, tc := range []struct {
		name      string
		pre, post *storeView
		got       engine.Config
		ok        bool
	}{
		{"purged, reinitialised to the last commit", interrupted, committed(5, prevCfg), prevCfg, true},
		{"purged, kept the interrupted round's configuration", interrupted, committed(5, prevCfg), roundCfg, false},
		{"nothing to purge, committed configuration", &storeView{}, committed(6, roundCfg), roundCfg, true},
		{"nothing to purge, another configuration", &storeView{}, committed(6, roundCfg), prevCfg, false},
		{"staged configuration kept", staged, committed(5, prevCfg), engineConfig(*staged.staged), true},
		{"staged configuration lost", staged, committed(5, prevCfg), prevCfg, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verdictFor(t, Reinit, func(vs verdicts) { checkReinit(vs, tc.pre, tc.post, tc.got, prev, round) })
			require.Equal(t, tc.ok, v.OK, v.Saw)
		})
	}
}

func TestCheckFailover(t *testing.T) {
	failover := []engine.Event{{Kind: engine.EventFailover, Detail: "primary slow"}}
	for _, tc := range []struct {
		name      string
		trial     trial
		recovered []engine.Event
		active    int
		ok        bool
	}{
		{"none due, none made", trial{}, nil, 0, true},
		{"due and made, kept after the restart", trial{failoverDue: true, preEvents: failover}, nil, 1, true},
		{"due, power lost first", trial{failoverDue: true, powerLost: true}, nil, 0, true},
		{"made without being due", trial{preEvents: failover}, nil, 1, false},
		{"made in recovery without being due", trial{}, failover, 0, false},
		{"due but not made", trial{failoverDue: true}, nil, 0, false},
		{"made, lost by the restart", trial{failoverDue: true, preEvents: failover}, nil, 0, false},
		{"not made, active chip moved", trial{}, nil, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verdictFor(t, Failover, func(vs verdicts) { checkFailover(vs, &tc.trial, tc.recovered, tc.active, 2*time.Second) })
			require.Equal(t, tc.ok, v.OK, v.Saw)
		})
	}
}

func TestCheckWear(t *testing.T) {
	const eraseSize = 4096
	erase := func(role faults.Role, off, n int64) faults.Op {
		return faults.Op{Role: role, Kind: faults.Erase, Off: off, Len: n}
	}
	for _, tc := range []struct {
		name   string
		writes []faults.Op
		ok     bool
	}{
		{"no erase", []faults.Op{{Role: faults.Backup, Kind: faults.Program, Off: 0, Len: 256}}, true},
		{"twice", []faults.Op{erase(faults.Backup, 0, eraseSize), erase(faults.Backup, 0, eraseSize)}, true},
		{"twice on each chip", []faults.Op{erase(faults.Backup, 0, eraseSize), erase(faults.Backup, 0, eraseSize),
			erase(faults.Primary, 0, eraseSize), erase(faults.Primary, 0, eraseSize)}, true},
		{"three times", []faults.Op{erase(faults.Backup, 0, eraseSize), erase(faults.Backup, 0, eraseSize), erase(faults.Backup, 0, eraseSize)}, false},
		{"three times, once in a block erase", []faults.Op{erase(faults.Backup, 0, 16*eraseSize), erase(faults.Backup, 4*eraseSize, eraseSize),
			erase(faults.Backup, 4*eraseSize, eraseSize)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verdictFor(t, BoundedWear, func(vs verdicts) { checkWear(vs, tc.writes, eraseSize, "round") })
			require.Equal(t, tc.ok, v.OK, v.Saw)
		})
	}
}

// TestVerdictsFirstFailureStands: a later pass of an invariant does not
// hide an earlier failure; a skip never replaces a verdict; all reports
// invariants no check reached as skipped.
func TestVerdictsFirstFailureStands(t *testing.T) {
	vs := verdicts{}
	vs.fail(Purged, "dirty")
	vs.ok(Purged, "clean")
	vs.fail(Purged, "later")
	vs.ok(Atomic, "fine")
	vs.skip(Atomic, "not due")
	vs.skip(Live, "not due")
	all := vs.all()
	require.Len(t, all, len(Invariants()))
	byName := map[string]Verdict{}
	for _, v := range all {
		byName[v.Invariant] = v
	}
	require.Equal(t, Verdict{Invariant: Purged, Saw: "dirty"}, byName[Purged])
	require.Equal(t, Verdict{Invariant: Atomic, OK: true, Saw: "fine"}, byName[Atomic])
	require.True(t, byName[Live].Skipped)
	require.True(t, byName[Live].OK)
	require.Equal(t, "not checked: not due", byName[Live].Saw)
	require.True(t, byName[Durable].Skipped, "not reached")
	require.Len(t, vs.list(), 3)
}
