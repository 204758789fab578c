package campaign

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults/reference"
)

// The writer-policy check: a round that commits does what docs/FORMAT.md
// 4.14, "The writer's policy", says sync/store does — each changed chunk
// with a base as a delta record of the policy's runs unless the policy
// folds it, delta blocks released only when a budget would be exceeded,
// records packed in order, the committed deltas within their budgets.
// The other checks see only that a round's data is right and its cost
// bounded: a round that writes a chunk whole instead of as a delta, merges
// runs differently or releases a block it need not, is correct but
// different, and only this check sees it. It is judged by the reference
// package's model (reference.JudgePolicy), from the stores before and
// after a round as the reference decoder reads them.

// checkPolicy judges the round that took the backup (chip 1) from before
// to after; phase names it in the verdict.
func (w *worker) checkPolicy(vs verdicts, phase string, before, after *storeView) {
	if before == nil || after == nil || before.err != nil || after.err != nil || before.backup == nil || after.backup == nil {
		vs.ok(Policy, "a store before or after the %s is not readable: its choices not judged", phase)
		return
	}
	if after.generation != before.generation+1 {
		vs.ok(Policy, "the %s did not commit one generation: its choices not judged", phase)
		return
	}
	var rep reference.PolicyReport
	var why string
	w.quiet(func() { rep, why = reference.JudgePolicy(before.backup, after.backup, w.chips[1], false) })
	if why != "" {
		vs.fail(Policy, "the %s (generation %d): %s", phase, after.generation, why)
		return
	}
	vs.ok(Policy, "%s", policySaw(phase, rep))
}

// policySaw describes a round the policy check passed.
func policySaw(phase string, rep reference.PolicyReport) string {
	s := fmt.Sprintf("the %s: %d delta record(s) as the policy encodes them, %d chunk(s) with a base written whole, %d released; %d/%d delta blocks, %d/%d records",
		phase, rep.Deltas, rep.Whole, rep.Released, rep.Blocks, rep.Budget, rep.Records, rep.RecordCap)
	if rep.Pressed {
		s += " (near a budget: any fold allowed)"
	}
	return s
}

// checkRoundPolicy judges the fault-free round (the only one whose choices
// the policy fixes: a faulted round may retire blocks and write again).
func (w *worker) checkRoundPolicy(vs verdicts, t *trial, post *storeView) {
	if t.damagedBase != nil || !w.cleanRoundCommitted(t, post) {
		vs.ok(Policy, "the round did not commit without faults: no choice of the policy to judge (the live round's, if it runs, is)")
		return
	}
	w.checkPolicy(vs, "round", w.baseView(), post)
}
