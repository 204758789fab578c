package campaign

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/faults"
	"github.com/cmcsync/cmcsync/hal"
)

// The wait-response time as the oracle measures it (docs/DESIGN.md,
// Invariants, "Failover"): from the injector's answers alone, whatever the
// fault — a delay, a failed or timed-out read, or a read that returned
// bytes a flip or scribble changed (a corrupt answer counts as no answer).

// wait is one stretch of time during which the primary left the backup
// waiting for a correct answer.
type wait struct {
	// from is the first request not answered correctly in time (failed,
	// corrupted, or slower than the threshold); to the first answer
	// after it that was correct (its end closes the wait), or the last
	// request the primary got if none was (answered false).
	from, to faults.Answer
	answered bool
	length   time.Duration
}

// String says what the wait was, e.g. "from #12 (failed: ...) at +1.2s to
// the correct answer of #80: 2.005s".
func (w wait) String() string {
	end := fmt.Sprintf("the correct answer of #%d", w.to.Op.Index)
	if !w.answered {
		end = fmt.Sprintf("#%d, the last request, never answered correctly", w.to.Op.Index)
	}
	return fmt.Sprintf("from #%d (%s) to %s: %v", w.from.Op.Index, whyWrong(w.from), end, w.length)
}

// whyWrong says how a request was not answered correctly in time.
func whyWrong(a faults.Answer) string {
	switch {
	case a.Err != nil:
		return "failed: " + a.Err.Error()
	case a.Corrupted:
		return fmt.Sprintf("returned bytes corrupted at #%d", a.CorruptedAt)
	}
	return fmt.Sprintf("answered after %v", a.Duration())
}

// inTime reports whether a request to the primary was answered correctly
// within the threshold.
func inTime(a faults.Answer, threshold time.Duration) bool {
	return a.Answered() && a.Duration() <= threshold
}

// powerLoss reports whether the answer is a power loss (the device did not
// fail: the rail did).
func powerLoss(a faults.Answer) bool { return errors.Is(a.Err, hal.ErrPowerLoss) }

// primaryWaits returns every wait of the primary (chip A, the primary while
// the round runs) in answers: each starts at a request not answered
// correctly in time and ends at the end of the first correct answer to the
// same request at or after it — an operation of the same kind on bytes
// that overlap it (a slow correct answer ends its own wait) — so a correct
// answer about other bytes does not end a wait for these (a flipped record
// the backup reads again and again stays unanswered however well the
// primary answers about its other records); one that no correct answer
// ends lasts to the end of the last request to the primary. Power losses
// are not answers: the trace ends there.
func primaryWaits(answers []faults.Answer, threshold time.Duration) []wait {
	var (
		waits []wait
		open  *wait
		last  faults.Answer
	)
	for _, a := range answers {
		if a.Op.Role != faults.Primary || powerLoss(a) {
			continue
		}
		last = a
		if open == nil {
			if inTime(a, threshold) {
				continue
			}
			open = &wait{from: a}
		}
		if a.Answered() && sameRequest(open.from.Op, a.Op) {
			open.to, open.answered, open.length = a, true, a.End.Sub(open.from.Start)
			waits = append(waits, *open)
			open = nil
		}
	}
	if open != nil {
		open.to, open.length = last, last.End.Sub(open.from.Start)
		waits = append(waits, *open)
	}
	return waits
}

// everyWait returns every wait of the primary in answers, each request
// tracked on its own: where primaryWaits opens one wait at a time (a
// request not answered in time while a wait is open belongs to that wait),
// here a request not answered correctly in time opens a wait of its own
// unless an open wait is already for the same request, and each ends at
// the first correct answer to its own request. So a corrupt read made
// while an earlier failed read still waited has its wait, which ends only
// when those bytes read right — not when the failed read is answered.
// Waits are in the order they opened; one never answered lasts to the end
// of the last request to the primary.
func everyWait(answers []faults.Answer, threshold time.Duration) []wait {
	var (
		waits []wait
		open  []int // indexes into waits
		last  faults.Answer
	)
	for _, a := range answers {
		if a.Op.Role != faults.Primary || powerLoss(a) {
			continue
		}
		last = a
		if !inTime(a, threshold) && !slices.ContainsFunc(open, func(k int) bool { return sameRequest(waits[k].from.Op, a.Op) }) {
			waits = append(waits, wait{from: a})
			open = append(open, len(waits)-1)
		}
		if !a.Answered() {
			continue
		}
		open = slices.DeleteFunc(open, func(k int) bool {
			w := &waits[k]
			if !sameRequest(w.from.Op, a.Op) {
				return false
			}
			w.to, w.answered, w.length = a, true, a.End.Sub(w.from.Start)
			return true
		})
	}
	for _, k := range open {
		waits[k].to, waits[k].length = last, last.End.Sub(waits[k].from.Start)
	}
	return waits
}

// sameRequest reports whether b asks the primary what a asked: the same
// kind of operation on bytes that overlap a's.
func sameRequest(a, b faults.Op) bool {
	return a.Kind == b.Kind && a.Off < b.Off+b.Len && b.Off < a.Off+a.Len
}

// failoverDue reports whether a failover is due: some wait exceeds the
// threshold. It returns the longest wait (nil if there was none).
func failoverDue(answers []faults.Answer, threshold time.Duration) (bool, *wait) {
	var longest *wait
	for _, w := range primaryWaits(answers, threshold) {
		if longest == nil || w.length > longest.length {
			longest = &w
		}
	}
	return longest != nil && longest.length > threshold, longest
}

// firstAnomaly returns the first request to the primary after operation
// after that was not answered correctly in time, if any.
func firstAnomaly(answers []faults.Answer, after int64, threshold time.Duration) (faults.Answer, bool) {
	for _, a := range answers {
		if a.Op.Role == faults.Primary && a.Op.Index > after && !powerLoss(a) && !inTime(a, threshold) {
			return a, true
		}
	}
	return faults.Answer{}, false
}
