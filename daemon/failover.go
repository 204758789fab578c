package daemon

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/internal/failhook"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// FailoverHookEvent is the kind of the history event that reports what
// the failover action (Options.OnFailover) did.
const FailoverHookEvent = "failover-hook"

// failedOver starts the failover action for the engine's failover event
// ev, if one is set: in its own goroutine, so a slow or hung action never
// holds a round (the engine reports the event from inside the round that
// failed over). Actions run one at a time, in the order of the failovers;
// each runs once. Its result becomes a FailoverHookEvent in the history;
// a failure is also logged loudly. Close waits for a running action.
func (d *Daemon) failedOver(ev engine.Event) {
	if d.opts.OnFailover == nil {
		return
	}
	fe := failhook.Event{ActiveChip: -1, Generation: ev.Generation, Reason: ev.Detail, Time: ev.Time}
	if d.engine != nil { // nil only while Open runs the engine's recovery, which never fails over
		fe.ActiveChip = d.engine.Status().ActiveChip
		fe.ActiveDevice = [2]string{d.opts.Primary.String(), d.opts.Backup.String()}[fe.ActiveChip]
	}
	d.hooks.Add(1)
	go func() {
		defer d.hooks.Done()
		d.hookMu.Lock()
		defer d.hookMu.Unlock()
		r := d.opts.OnFailover.Run(context.Background(), fe)
		d.logbook.event(web.Event{Time: time.Now(), Kind: FailoverHookEvent, Generation: ev.Generation, Detail: r.String()})
		if r.OK() {
			d.logf("failover action: %s", r)
		} else {
			d.logf("ERROR: failover action: %s — the CMC may still boot the image that failed; not retried: boot the active chip (%d, %s) by hand (docs/DEPLOY.md, Failover action)", r, fe.ActiveChip, fe.ActiveDevice)
		}
		if d.opts.onFailoverDone != nil {
			d.opts.onFailoverDone(r)
		}
	}()
}
