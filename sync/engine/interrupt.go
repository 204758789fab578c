package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// interrupted handles an anomaly of the primary during a round: the
// interrupt, wait-response, failover, purge and reinit steps of the method
// (docs/DESIGN.md, The method). It interrupts the round (r, if its intent
// was written), measures the wait-response time by probing the primary
// every Options.ProbeRetry, fails over if the primary did not answer
// healthily within the threshold, purges what the round wrote and confirms
// the purge, reinitialises the configuration from the last committed
// generation, and schedules the next round.
func (e *Engine) interrupted(ctx context.Context, rs *roundState, r *store.Round, err error) (RoundReport, error) {
	rep := rs.report
	var an *anomaly
	if !errors.As(err, &an) {
		an = &anomaly{err: err, began: e.clock.Now()}
	}
	rep.WritesAfterAnomaly = rs.writesSinceAnswer
	e.interrupt(rs, r, an)
	wait, healthy, canceled := e.waitResponse(ctx, rs, an)
	rep.WaitResponse = wait
	failover := !canceled && (!healthy || wait > rs.config.Threshold)
	if e.opts.Mutant == ThresholdIgnored { // MUTANT: fail over on any anomaly
		failover = true
	}
	var ferr error
	if failover {
		ferr = e.failover(rs, wait)
		rep.Outcome = OutcomeFailover
	} else {
		rep.Outcome = OutcomeInterrupted
	}
	// Purge and reinit (the purge may be of nothing if no intent was written).
	if err := e.purgeRound(rs); err != nil {
		ferr = errors.Join(ferr, err)
	}
	// Nothing written: nothing to purge, so no reinit either (a staged
	// configuration stays; reinit follows a confirmed purge).
	if failover && ferr == nil && e.opts.Mutant != FailoverNoRestore { // MUTANT: no restore after a failover
		ferr = e.restoreActive()
	}
	now := e.now()
	e.mu.Lock()
	if !failover && e.config.RetryAtOnce {
		e.nextSync = now
	} else {
		e.nextSync = now.Add(e.config.Interval)
	}
	e.mu.Unlock()
	rep.Duration = e.clock.Now().Sub(rep.began)
	if ferr != nil {
		rep.Error = ferr.Error()
		e.setErr(ferr)
	} else {
		e.setErr(fmt.Errorf("round interrupted: %v", an.err))
	}
	e.noteNotSynced(rep, an.Error())
	e.setLastReport(*rep)
	return *rep, ferr
}

// interrupt is the interrupt step: the anomaly and the interruption go to
// the report and the event log, and the round (if its intent was written)
// is abandoned where it stands. A corrupt answer of the primary also
// raises the primary-corrupt alarm (event and counter).
func (e *Engine) interrupt(rs *roundState, r *store.Round, an *anomaly) {
	rep := rs.report
	rep.Anomaly, rep.AnomalyErr = an.err.Error(), an.err
	e.event(EventAnomaly, rep.Generation, fmt.Sprintf("%s: %v", rs.primary.Geometry().Name, an.err))
	if an.corrupt() {
		e.mu.Lock()
		e.counters.PrimaryCorrupt++
		if t := an.recheck.record; t != 0 {
			if e.primaryErrors == nil {
				e.primaryErrors = map[info.Type]string{}
			}
			e.primaryErrors[t] = an.err.Error()
		}
		e.mu.Unlock()
		e.event(EventPrimaryCorrupt, rep.Generation, fmt.Sprintf("%s answered with corrupt information: %v; waiting up to the %v threshold for a correct answer, then failing over",
			rs.primary.Geometry().Name, an.err, rs.config.Threshold))
	}
	if r != nil {
		r.Abandon()
		e.event(EventInterrupt, rep.Generation, fmt.Sprintf("round interrupted with %d of %d chunks left", r.Remaining(), len(r.Writes())))
	} else {
		e.event(EventInterrupt, rep.Generation, "round interrupted before writing")
	}
	e.mu.Lock()
	e.counters.Interrupts++
	e.mu.Unlock()
}

// waitResponse is the wait-response step: it probes the primary every
// Options.ProbeRetry (see answers) until it answers correctly or the time
// since an.began (the first request it did not answer correctly: a failed
// read, one slower than the threshold, or an answer detected as corrupt)
// exceeds the threshold. A corrupt answer counts as no answer: a primary
// that stays corrupt is waited for until the threshold passes, as one that
// stopped answering is. It returns that time, whether the primary
// answered, and whether ctx stopped the wait first (no verdict then, so no
// failover).
func (e *Engine) waitResponse(ctx context.Context, rs *roundState, an *anomaly) (wait time.Duration, healthy, canceled bool) {
	wait = e.clock.Now().Sub(an.began)
	for wait <= rs.config.Threshold {
		if err := e.clock.Sleep(ctx, e.opts.ProbeRetry); err != nil {
			return wait, false, true
		}
		perr := e.answers(rs, an)
		wait = e.clock.Now().Sub(an.began)
		if perr == nil {
			return wait, true, false
		}
	}
	return wait, false, false
}

// answers is one wait-response probe after the anomaly an. After a
// failed or slow request the primary answers correctly when its image
// header reads in time (one request, as the monitor step's first probe).
// After a corrupt answer it must also answer what read corrupt correctly:
// the image header equal to the round's (once the round read one), the
// round's record headers decoding, and what the round found corrupt
// (an.recheck) intact: the region's header, and the record whole, its
// payload CRC checked.
func (e *Engine) answers(rs *roundState, an *anomaly) error {
	if !an.corrupt() {
		_, err := e.probe(rs, nil)
		return err
	}
	var want *info.ImageHeader
	if rs.header != (info.ImageHeader{}) {
		want = &rs.header
	}
	if _, err := e.probe(rs, want); err != nil {
		return err
	}
	rc := an.recheck
	if !rc.region {
		return nil
	}
	l := e.opts.Layout
	region, err := info.OpenRegion(rs.primary, l.InfoOff, l.InfoSize)
	if err != nil {
		return err
	}
	if rc.record != 0 {
		off, _ := region.Extent(rc.record)
		chunk := rs.backup.ChunkSize()
		rec, _, err := e.readRecord(region, rs.primary, rc.record, (off+info.RecordHeaderSize)%chunk, chunk)
		if err != nil {
			return err
		}
		putPayload(rec.Payload)
	}
	return nil
}

// stopped ends a round whose context is done: the round's blocks are
// purged (and the configuration reinitialised) as after an interruption,
// without an anomaly or a failover; it counts as one failure
// (Counters.Errors, Status.LastError) as an interrupted round does.
func (e *Engine) stopped(rs *roundState, r *store.Round, cause error) (RoundReport, error) {
	r.Abandon()
	e.event(EventInterrupt, rs.report.Generation, "round stopped: "+cause.Error())
	e.mu.Lock()
	e.counters.Interrupts++
	e.mu.Unlock()
	rs.report.Outcome = OutcomeInterrupted
	if err := e.purgeRound(rs); err != nil {
		cause = errors.Join(cause, err)
	}
	rs.report.Duration = e.clock.Now().Sub(rs.report.began)
	rs.report.Error = cause.Error()
	// An interrupted round is a failure (docs/API.md, counters: "rounds
	// interrupted or failed"), stopped or not: counted once, with its
	// error, as the anomaly's interruption is.
	e.setErr(fmt.Errorf("round stopped: %w", cause))
	e.noteNotSynced(rs.report, "round stopped: "+cause.Error())
	rep := *rs.report
	e.setLastReport(rep)
	return rep, cause
}
