package campaign

import (
	"context"
	"fmt"
	"slices"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// The scrub's public report, judged in the lifecycle's recording against
// what the campaign itself damaged (the scrub step's chunks, damaged
// outside the engine, listed by the reference decoder's committed state),
// never against sync/store:
//
//   - a scrub pass counts every committed chunk once (ScrubProgress's
//     Checked climbs by at most one a step, never falls, and ends at
//     Total);
//   - the chunks it finds damaged (the steps' Damage in RepairChecking)
//     are exactly the damaged ones, each then classified RepairRewrite
//     (the primary, unchanged since the last commit, still holds the
//     committed chunk), and Status.ScrubDamage lists each of them once,
//     as classified, with BackupHealth damaged;
//   - after any step's round, no scrub damage is left and a repair event
//     is reported only by the round that followed the damage: one in the
//     scrub step, none elsewhere.

// scrubPassJudged runs a whole scrub pass (scrubPass) and judges its
// report against damaged, the chunks the campaign damaged before it.
func scrubPassJudged(ctx context.Context, e *engine.Engine, damaged []chunkRef) error {
	var found, rewrite []chunkRef
	checked, total := 0, -1
	for range 1 << 20 {
		p, err := e.ScrubStep(ctx)
		if err != nil {
			return err
		}
		if p.PassDone {
			if checked != total {
				return fmt.Errorf("the scrub pass ended after %d chunks checked of the %d committed", checked, total)
			}
			return scrubStatusJudged(e.Status(), damaged, found, rewrite)
		}
		if p.Checked < checked || p.Checked > checked+1 {
			return fmt.Errorf("the scrub's checked count went from %d to %d in one step", checked, p.Checked)
		}
		checked, total = p.Checked, p.Total
		if d := p.Damage; d != nil {
			c := chunkRef{Type: uint8(d.Type), Index: d.Index}
			switch d.Repair {
			case engine.RepairChecking:
				found = append(found, c)
			case engine.RepairRewrite:
				rewrite = append(rewrite, c)
			default:
				return fmt.Errorf("the scrub classified damaged %v %q; the primary holds the committed chunk (%q)", c, d.Repair, engine.RepairRewrite)
			}
		}
	}
	return fmt.Errorf("a scrub pass did not end")
}

// scrubStatusJudged: after the pass, what it found and classified is
// what was damaged, and Status says so.
func scrubStatusJudged(st engine.Status, damaged, found, rewrite []chunkRef) error {
	if !slices.Equal(found, damaged) {
		return fmt.Errorf("the scrub found %v damaged; the campaign damaged %v", found, damaged)
	}
	if !slices.Equal(rewrite, damaged) {
		return fmt.Errorf("the scrub classified %v for a rewrite; the campaign damaged %v", rewrite, damaged)
	}
	var listed []chunkRef
	for _, d := range st.ScrubDamage {
		listed = append(listed, chunkRef{Type: uint8(d.Type), Index: d.Index})
		if d.Repair != engine.RepairRewrite {
			return fmt.Errorf("Status.ScrubDamage lists %v chunk %d as %q, the scrub classified it %q", d.Type, d.Index, d.Repair, engine.RepairRewrite)
		}
	}
	if !slices.Equal(listed, damaged) {
		return fmt.Errorf("Status.ScrubDamage lists %v; the scrub classified %v", listed, damaged)
	}
	if st.BackupHealth != engine.HealthDamaged {
		return fmt.Errorf("Status.BackupHealth is %q after a pass found %d damaged chunks, want %q", st.BackupHealth, len(damaged), engine.HealthDamaged)
	}
	return nil
}

// stepRepairsJudged: after a step of the life, no scrub damage is left
// unrepaired, and the engine reported repair events only where damage
// was found (repairs: 1 in the scrub step, else 0).
func stepRepairsJudged(e *engine.Engine, repairs int) error {
	n := 0
	for _, ev := range e.Events() {
		if ev.Kind == engine.EventRepair {
			n++
		}
	}
	if n != repairs {
		return fmt.Errorf("the engine reported %d repair events; %d chunk repairs were due", n, repairs)
	}
	if st := e.Status(); len(st.ScrubDamage) != 0 {
		return fmt.Errorf("after the round, Status.ScrubDamage still lists %d damaged chunks", len(st.ScrubDamage))
	}
	return nil
}

// repairs is how many repair events the step's round reports: one when
// the step damaged chunks (the round rewrites them all), else none.
func (f *stepFacts) repairs() int {
	if len(f.damaged) > 0 {
		return 1
	}
	return 0
}
