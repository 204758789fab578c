package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// Rounds belong to the daemon, not to whoever asked for them: every round
// runs under the daemon's own context (Daemon.life), so a client that goes
// away (a closed tab, a client timeout) does not interrupt it; only an
// anomaly of the primary (the engine's business), a shutdown (Run's
// context ending, or Close) or a power cut does. A caller whose context
// ends still gets the round's report when it ends.

// Run runs rounds when they are due (engine.Run) and, on simulated chips
// with Options.CMCStep set, the simulated CMC, and with Options.ScrubEvery
// the scrub schedule, until ctx is done; it returns nil then, or the error
// that makes the chips unusable (power loss, closed). When ctx ends, the
// rounds in progress, also those asked for through the API, are stopped
// (the shutdown). Every scheduled round goes to the recorder
// (SetRecorder) and the history.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopRounds := context.AfterFunc(ctx, d.stop) // the shutdown stops the API's rounds too
	defer stopRounds()
	var wg sync.WaitGroup
	if (d.simulated || d.opts.CMCOnRealChips) && d.opts.CMCStep > 0 {
		wg.Go(func() { d.simulateCMC(ctx, d.opts.CMCStep) })
	}
	if d.opts.ScrubEvery > 0 {
		wg.Go(func() { d.scrubSchedule(ctx, d.opts.ScrubEvery) })
	}
	err := d.engine.Run(d.runContext(ctx))
	stopped := ctx.Err() != nil
	cancel()
	wg.Wait()
	if stopped {
		return nil
	}
	return err
}

// runContext is ctx that also ends with the daemon's own context.
func (d *Daemon) runContext(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(d.life, cancel)
	return ctx
}

// SyncNow runs one round at once, waiting for a round in progress first.
// The round is the daemon's: ctx ending does not interrupt it, and SyncNow
// returns when it ends. It returns engine.ErrUpgradePending while an
// upgrade waits for the user's choice.
func (d *Daemon) SyncNow(ctx context.Context) (engine.RoundReport, error) {
	rep, err := d.engine.Round(d.life)
	d.account(rep, err)
	return rep, err
}

// Upgrade applies the user's choice after an image upgrade and syncs at
// once (engine.UpgradeRound), as the daemon's round (see SyncNow).
func (d *Daemon) Upgrade(ctx context.Context, choice engine.UpgradeChoice) (engine.RoundReport, error) {
	rep, err := d.engine.UpgradeRound(d.life, choice)
	d.account(rep, err)
	return rep, err
}

// account adds a round to the bytes written and to the history, with the
// totals after it; an interrupted round also gets its wait-response event.
func (d *Daemon) account(rep engine.RoundReport, err error) {
	d.mu.Lock()
	d.bytesWritten += rep.BytesWritten
	d.mu.Unlock()
	if ev, ok := waitResponseEvent(rep, d.engine.Config().Threshold, time.Now()); ok {
		d.logbook.event(ev)
		d.logf("round of generation %d %s: %s", rep.Generation, rep.Outcome, ev.Detail)
	}
	d.logbook.round(webRound(rep, err), d.totals())
}

// waitResponseEvent is the event that says how an interrupted round's
// wait-response compared with the threshold, and what followed: the
// events the engine logs name the anomaly, the failover and the purge,
// and this one puts the measurement beside them on the page.
func waitResponseEvent(rep engine.RoundReport, threshold time.Duration, now time.Time) (web.Event, bool) {
	var verdict string
	switch rep.Outcome {
	case engine.OutcomeInterrupted:
		verdict = "the primary answered within the threshold: no failover; the round was purged and the configuration reinitialised from the last commit"
	case engine.OutcomeFailover:
		verdict = "the primary did not answer within the threshold: failed over to the backup image; the round was purged"
	default:
		return web.Event{}, false
	}
	detail := fmt.Sprintf("wait-response %v against the %v threshold: %s", rep.WaitResponse.Round(time.Millisecond), threshold, verdict)
	if rep.Anomaly != "" {
		detail += " (anomaly: " + rep.Anomaly + ")"
	}
	return web.Event{Time: now, Kind: "wait-response", Generation: rep.Generation, Detail: detail}, true
}

// totals returns the running totals: those kept before this start plus
// what the engine counted since it opened.
func (d *Daemon) totals() totals {
	return d.logbook.baseTotals().plus(d.engine.Status().Counters, d.BytesWritten())
}

// scheduled receives every round engine.Run ran (engine.Options.OnRound).
func (d *Daemon) scheduled(rep engine.RoundReport, err error) {
	d.account(rep, err)
	d.record(webRound(rep, err))
	switch {
	case err == nil, errors.Is(err, engine.ErrUpgradePending):
		// Waits for the user's choice; the status says so.
	case errors.Is(err, hal.ErrPowerLoss), errors.Is(err, hal.ErrClosed):
		// Run returns it.
	default:
		d.logf("round failed: %v (retrying in %v)", err, d.engine.Config().Interval)
	}
}

// engineLine receives the engine's log lines (engine.Options.Logf): its
// events go to the history (with those of its recovery at Open), every
// line to Options.EngineLogf.
//
// Seam: the engine hands each event to Logf as the only argument of a
// "%s" line; an engine.Options.OnEvent hook would make that explicit.
func (d *Daemon) engineLine(format string, a ...any) {
	if ev, ok := soleEvent(a); ok {
		d.logbook.event(webEvent(ev))
		if ev.Kind == engine.EventFailover {
			d.failedOver(ev)
		}
	} else {
		d.logbook.event(web.Event{Time: time.Now(), Kind: "log", Detail: fmt.Sprintf(format, a...)})
	}
	if d.opts.EngineLogf != nil {
		d.opts.EngineLogf(format, a...)
	}
}

// soleEvent returns the engine event that is a log line's only argument.
func soleEvent(a []any) (engine.Event, bool) {
	if len(a) != 1 {
		return engine.Event{}, false
	}
	ev, ok := a[0].(engine.Event)
	return ev, ok
}

// Failback re-seeds chip A from the newest committed generation and makes
// it active again (engine.Failback), under the round lock, as the
// daemon's (ctx ending does not interrupt it).
func (d *Daemon) Failback(ctx context.Context) (engine.FailbackReport, error) {
	rep, err := d.engine.Failback(d.life)
	if err == nil {
		d.logf("failback: chip A re-seeded from generation %d and active again (role epoch %d)", rep.Generation, rep.RoleEpoch)
	}
	return rep, err
}
