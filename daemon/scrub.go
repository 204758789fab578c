package daemon

import (
	"context"
	"time"
)

// scrubSchedule runs Scrub every period until ctx is done. It measures the
// period on the monotonic clock (a timer), so wall-clock steps neither
// hasten nor delay a scrub. A scrub that fails is logged and tried again
// after the next period.
func (d *Daemon) scrubSchedule(ctx context.Context, period time.Duration) {
	t := time.NewTimer(period)
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

// Scrub reads the whole backup store back and checks every committed
// chunk's digest (engine.Scrub; the next round rewrites damaged chunks).
// A complete scrub goes to the history: the backup's health and the age
// of the last scrub in /metrics come from it.
//
// Seam: engine.Scrub is today's whole-store read; the engine's scrub API
// (incremental, with its own schedule state) replaces this call.
func (d *Daemon) Scrub(ctx context.Context) error {
	rep, err := d.engine.Scrub(ctx)
	if err != nil {
		return err
	}
	d.logbook.scrubbed(scrubResult{Time: time.Now(), Generation: rep.Generation, Chunks: rep.Chunks, Bad: len(rep.Bad), mono: monotonic()})
	return nil
}
