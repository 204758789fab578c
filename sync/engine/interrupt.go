package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/cmcsync/cmcsync/sync/store"
)

// interrupted handles an anomaly (step 4 of the method): interrupt, measure
// the wait-response time, fail over if it exceeds the threshold, purge,
// confirm, reinit.
func (e *Engine) interrupted(ctx context.Context, rc *roundCtx, r *store.Round, err error) (RoundReport, error) {
	rep := rc.rep
	var an *anomaly
	if !errors.As(err, &an) {
		an = &anomaly{err: err, when: e.clock.Now()}
	}
	rep.Anomaly = an.err.Error()
	e.event(EventAnomaly, rep.Generation, fmt.Sprintf("%s: %v", rc.primary.Geometry().Name, an.err))
	if r != nil {
		r.Abandon()
		e.event(EventInterrupt, rep.Generation, fmt.Sprintf("round interrupted with %d of %d chunks left", r.Remaining(), len(r.Writes())))
	} else {
		e.event(EventInterrupt, rep.Generation, "round interrupted before writing")
	}
	e.mu.Lock()
	e.counters.Interrupts++
	e.mu.Unlock()
	// Wait for the primary to answer healthily, up to the threshold.
	wait := e.clock.Now().Sub(an.when)
	healthy, canceled := false, false
	for wait <= rc.cfg.Threshold {
		if err := e.clock.Sleep(ctx, e.opts.ProbeRetry); err != nil {
			canceled = true // stopped waiting: no verdict, no failover
			break
		}
		_, perr := e.probe(rc, nil)
		wait = e.clock.Now().Sub(an.when)
		if perr == nil {
			healthy = true
			break
		}
	}
	rep.WaitResponse = wait
	failover := !canceled && (!healthy || wait > rc.cfg.Threshold)
	if e.opts.Mutant == ThresholdIgnored { // MUTANT: fail over on any anomaly
		failover = true
	}
	var ferr error
	if failover {
		ferr = e.failover(rc, wait)
		rep.Outcome = OutcomeFailover
	} else {
		rep.Outcome = OutcomeInterrupted
	}
	// Purge and reinit (the purge may be of nothing if no intent was written).
	if in := rc.bk.Interrupted(); in != nil {
		rep.PurgedBlocks = len(in.Blocks)
		if err := e.purgeAndReinit(rc.bk, in); err != nil {
			ferr = errors.Join(ferr, err)
		}
	}
	// Nothing written: nothing to purge, so no reinit either (a staged
	// configuration stays; reinit follows a confirmed purge).
	if failover && ferr == nil {
		ferr = e.restoreActive()
	}
	now := e.clock.Now()
	e.mu.Lock()
	if !failover && e.cfg.RetryAtOnce {
		e.nextSync = now
	} else {
		e.nextSync = now.Add(e.cfg.Interval)
	}
	e.mu.Unlock()
	rep.Duration = now.Sub(rep.Started)
	if ferr != nil {
		rep.Error = ferr.Error()
		e.setErr(ferr)
	} else {
		e.setErr(fmt.Errorf("round interrupted: %v", an.err))
	}
	r2 := *rep
	e.mu.Lock()
	e.lastRep = &r2
	e.mu.Unlock()
	return *rep, ferr
}

// stopped ends a round whose context is done: the round's blocks are
// purged (and the configuration reinitialised) as after an interruption,
// without an anomaly or a failover.
func (e *Engine) stopped(rc *roundCtx, r *store.Round, cause error) (RoundReport, error) {
	r.Abandon()
	e.event(EventInterrupt, rc.rep.Generation, "round stopped: "+cause.Error())
	rc.rep.Outcome = OutcomeInterrupted
	if in := rc.bk.Interrupted(); in != nil {
		rc.rep.PurgedBlocks = len(in.Blocks)
		if err := e.purgeAndReinit(rc.bk, in); err != nil {
			cause = errors.Join(cause, err)
		}
	}
	rc.rep.Duration = e.clock.Now().Sub(rc.rep.Started)
	rc.rep.Error = cause.Error()
	rep := *rc.rep
	e.mu.Lock()
	e.lastRep = &rep
	e.mu.Unlock()
	return rep, cause
}
