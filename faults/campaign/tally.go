package campaign

import (
	"sort"
	"sync"
	"sync/atomic"
)

// result is one judged schedule.
type result struct {
	testCase Case
	points   int
	verdicts []Verdict
}

// jobResult is what one job of a campaign (an exhaustive point with, at
// depth 2, the cuts in its recovery, or a random case) judged: its
// schedules, and how many of its fault points were torn operations and
// how many were in a recovery.
type jobResult struct {
	results        []result
	torn           int
	recoveryPoints int
	kind           string // the kind of fault point (pointKind's name, or "random")
}

// tally adds the jobs' results up into a report. It is safe for concurrent
// use.
type tally struct {
	mu        sync.Mutex
	report    *Report
	keep      int // violations listed (all are counted)
	stopAfter int // violations after which the campaign stops (0: never)
	jobs      int // jobs added
	stopped   atomic.Bool
}

func newTally(report *Report, keepViolations, stopAfter int) *tally {
	return &tally{report: report, keep: keepViolations, stopAfter: stopAfter}
}

// add counts one job's schedules, fault points and verdicts: a check per
// verdict not skipped, and a violation per failed one. It returns how
// many jobs were added so far.
func (t *tally) add(j jobResult) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	rep := t.report
	for _, r := range j.results {
		rep.Schedules++
		rep.FaultPoints += r.points
		for _, v := range r.verdicts {
			if v.Skipped {
				continue
			}
			rep.Checks[v.Invariant]++
			if v.OK {
				continue
			}
			rep.ViolationsTotal++
			if t.stopAfter > 0 && rep.ViolationsTotal >= t.stopAfter {
				t.stopped.Store(true)
			}
			if len(rep.Violations) < t.keep {
				rep.Violations = append(rep.Violations, Violation{Replay: r.testCase.String(), Invariant: v.Invariant, Detail: v.Saw})
			}
		}
	}
	if rep.Kinds == nil {
		rep.Kinds = map[string]int{}
	}
	rep.Kinds[j.kind] += len(j.results) - j.recoveryPoints
	if j.recoveryPoints > 0 {
		rep.Kinds["recovery-"+j.kind] += j.recoveryPoints
	}
	rep.TornVariants += j.torn
	rep.RecoveryPoints += j.recoveryPoints
	t.jobs++
	return t.jobs
}

// stop reports whether the campaign found the violations it was to stop
// after (Options.StopAfter).
func (t *tally) stop() bool { return t.stopped.Load() }

// finish sorts the violations listed by replay line.
func (t *tally) finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	sort.SliceStable(t.report.Violations, func(i, j int) bool { return t.report.Violations[i].Replay < t.report.Violations[j].Replay })
}
