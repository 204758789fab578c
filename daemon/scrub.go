package daemon

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// scrubSchedule runs a scrub pass (Scrub) at once and then every period
// until ctx is done. It measures the period on the monotonic clock (a
// timer), so wall-clock steps neither hasten nor delay a scrub. A pass
// that fails is logged and tried again after the next period.
func (d *Daemon) scrubSchedule(ctx context.Context, period time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.Scrub(ctx); err != nil && ctx.Err() == nil {
			d.logf("scrub: %v (next in %v)", err, period)
		}
		t.Reset(period)
	}
}

// Scrub runs one pass of the engine's incremental scrub over every
// committed chunk of the backup (engine.ScrubStep, step by step): each step
// holds the engine's round lock for one chunk read only, so a round due
// meanwhile waits for at most one chunk read, and a pass that overlaps
// rounds goes on over the newest generation. Damage it finds is repaired
// by the next round of its type (the engine schedules that round and logs
// the events damage, scrub and repair, which go to the history); the
// backup's health is the engine's (Status.BackupHealth). A complete pass
// goes to the history too, so that the age of the last scrub in /metrics
// survives a restart. It returns ctx's error if ctx ends first, or the
// error that kept a step from reading the backup.
func (d *Daemon) Scrub(ctx context.Context) error {
	for {
		prog, err := d.engine.ScrubStep(ctx)
		if err != nil {
			return err
		}
		if prog.PassDone {
			d.logbook.scrubbed(scrubResult{Time: time.Now(), Generation: prog.Generation, Chunks: prog.Total,
				Bad: unrepaired(d.engine.Status()), mono: monotonic()})
			return nil
		}
	}
}

// unrepaired counts the damaged chunks the engine's scrub found and no
// round has repaired yet.
func unrepaired(st engine.Status) int { return len(st.ScrubDamage) }
