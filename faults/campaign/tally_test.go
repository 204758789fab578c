package campaign

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/faults"
)

func judged(round int64, vs ...Verdict) result {
	return result{testCase: Case{Scenario: "small", Seed: 1, Round: faults.CutAt(round)}, points: 1, verdicts: vs}
}

// TestTally: a skipped verdict counts in no check, a passed one counts a
// check, a failed one a check and a violation; violations are listed up
// to the bound and sorted by replay line, and the tally says stop once
// StopAfter violations were counted.
func TestTally(t *testing.T) {
	pass := Verdict{Invariant: Atomic, OK: true, Saw: "fine"}
	fail := Verdict{Invariant: Purged, Saw: "dirty"}
	skip := skipped(Live, "not due")
	for _, tc := range []struct {
		name           string
		jobs           []jobResult
		keep, stop     int
		checks         map[string]int
		violations     int
		listed         []string // replay lines, in order
		stopped        bool
		torn, recovery int
	}{
		{
			name:   "passes and skips",
			jobs:   []jobResult{{results: []result{judged(1, pass, skip)}}, {results: []result{judged(2, pass)}, torn: 1}},
			keep:   10,
			checks: map[string]int{Atomic: 2}, torn: 1,
		},
		{
			name: "violations listed up to the bound, sorted",
			jobs: []jobResult{
				{results: []result{judged(30, fail), judged(20, pass, fail)}, recoveryPoints: 2},
				{results: []result{judged(10, fail)}},
			},
			keep:       2,
			checks:     map[string]int{Atomic: 1, Purged: 3},
			violations: 3,
			listed:     []string{faults.CutAt(20).String(), faults.CutAt(30).String()},
			recovery:   2,
		},
		{
			name:       "stop after",
			jobs:       []jobResult{{results: []result{judged(1, fail)}}, {results: []result{judged(2, fail)}}},
			keep:       10,
			stop:       2,
			checks:     map[string]int{Purged: 2},
			violations: 2,
			listed:     []string{faults.CutAt(1).String(), faults.CutAt(2).String()},
			stopped:    true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &Report{Checks: map[string]int{}}
			tl := newTally(rep, tc.keep, tc.stop)
			for i, j := range tc.jobs {
				require.False(t, tl.stop(), "before job %d", i)
				require.Equal(t, i+1, tl.add(i, j))
			}
			tl.finish()
			require.Equal(t, tc.checks, rep.Checks)
			require.Equal(t, tc.violations, rep.ViolationsTotal)
			var listed []string
			for _, v := range rep.Violations {
				c, err := ParseCase(v.Replay)
				require.NoError(t, err)
				listed = append(listed, c.Round.String())
			}
			require.Equal(t, tc.listed, listed)
			require.Equal(t, tc.stopped, tl.stop())
			require.Equal(t, tc.torn, rep.TornVariants)
			require.Equal(t, tc.recovery, rep.RecoveryPoints)
			schedules := 0
			for _, j := range tc.jobs {
				schedules += len(j.results)
			}
			require.Equal(t, schedules, rep.Schedules)
			require.Equal(t, schedules, rep.FaultPoints)
		})
	}
}

// TestTallyCountsInJobOrder: results handed in out of order are counted
// in job order, so the violations listed (the first ones) and where the
// campaign stops do not depend on which job finished first.
func TestTallyCountsInJobOrder(t *testing.T) {
	fail := Verdict{Invariant: Purged, Saw: "dirty"}
	jobs := []jobResult{}
	for i := range 6 {
		jobs = append(jobs, jobResult{results: []result{judged(int64(10+i), fail)}, liveRounds: 1})
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4, 5}, {5, 3, 4, 1, 2, 0}, {2, 0, 1, 5, 4, 3}} {
		rep := &Report{Checks: map[string]int{}}
		tl := newTally(rep, 2, 4)
		for _, k := range order {
			tl.add(k, jobs[k])
		}
		tl.finish()
		require.Equal(t, 4, rep.ViolationsTotal, "order %v", order)
		require.Equal(t, 4, rep.Schedules, "order %v: jobs after the stop are dropped", order)
		require.Equal(t, 4, rep.LiveRounds, "order %v", order)
		require.Len(t, rep.Violations, 2)
		for i, v := range rep.Violations {
			c, err := ParseCase(v.Replay)
			require.NoError(t, err)
			require.Equal(t, faults.CutAt(int64(10+i)).String(), c.Round.String(), "order %v: the first jobs' violations", order)
		}
		require.True(t, tl.stop())
	}
}
