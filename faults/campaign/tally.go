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
// schedules, how many of its fault points were torn operations and how
// many were in a recovery, and how many live rounds it really ran (the
// rest reused a memoised verdict, see Report.LiveRounds).
type jobResult struct {
	results        []result
	torn           int
	recoveryPoints int
	liveRounds     int
	kind           string // the kind of fault point (pointKind's name, or "random")
}

// tally adds the jobs' results up into a report, in job order whatever
// order they finish in, so that a report does not depend on how many
// workers ran it or how the jobs fell to them. It is safe for concurrent
// use.
//
// Results that finish ahead of an earlier job wait in pending; the pool
// hands jobs out in order, a chunk per worker at a time, so pending holds
// at most about workers × chunk results.
type tally struct {
	mu        sync.Mutex
	report    *Report
	keep      int // violations listed (all are counted)
	stopAfter int // violations after which the campaign stops (0: never)
	next      int // the job to add next
	pending   map[int]jobResult
	stopped   atomic.Bool
}

func newTally(report *Report, keepViolations, stopAfter int) *tally {
	return &tally{report: report, keep: keepViolations, stopAfter: stopAfter, pending: map[int]jobResult{}}
}

// add hands in job k's result (k counted from 0 among the campaign's
// jobs, each once) and counts every result now in order: a check per
// verdict not skipped, a violation per failed one. Once StopAfter
// violations were counted, the results of later jobs are dropped, so
// that where a campaign stops does not depend on timing either. It
// returns how many jobs were counted so far.
func (t *tally) add(k int, j jobResult) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[k] = j
	for {
		j, ok := t.pending[t.next]
		if !ok {
			break
		}
		delete(t.pending, t.next)
		if t.stopped.Load() {
			clear(t.pending)
			break
		}
		t.count(j)
		t.next++
	}
	return t.next
}

// count adds one job's result to the report.
func (t *tally) count(j jobResult) {
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
	rep.LiveRounds += j.liveRounds
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
