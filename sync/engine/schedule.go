package engine

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// group returns the types of the round that starts at index next of
// c.Types (round-robin polling); all of them when GroupSize is 0.
func group(c Config, next uint16) []info.Type {
	n := len(c.Types)
	if n == 0 {
		return nil
	}
	if c.GroupSize <= 0 || c.GroupSize >= n {
		return slices.Clone(c.Types)
	}
	out := make([]info.Type, 0, c.GroupSize)
	for i := range c.GroupSize {
		out = append(out, c.Types[(int(next)+i)%n])
	}
	return out
}

// drainWake drops a pending wake-up (see kick).
func (e *Engine) drainWake() {
	select {
	case <-e.wake:
	default:
	}
}

// kick wakes Run to read the schedule again (a round ran, or the
// configuration changed).
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run is the schedule step of the method (docs/DESIGN.md, The method): it
// runs rounds on the schedule until ctx is done: it waits (on the
// engine's clock) until NextSync, runs a round, hands its report to
// Options.OnRound, and repeats. A configuration change (SetConfig) or a
// round run meanwhile (Round, Upgrade, "sync now") wakes it to read the
// schedule again, so a shorter interval takes effect at once. Interrupted
// rounds are retried at once when Config.RetryAtOnce is set, else at the
// next scheduled time. A round that fails with a flash error (or waits for
// an upgrade choice) is retried after the interval. Run returns ctx's
// error, or a power-loss error from a chip (the device must be restarted).
func (e *Engine) Run(ctx context.Context) error {
	if err := e.readOnly("run"); err != nil {
		return err
	}
	e.drainWake() // wake-ups from before Run started: it reads the schedule now
	for {
		next := e.scheduled()
		if d := next.Sub(e.now()); d > 0 {
			if err := e.sleep(ctx, d); err != nil {
				return err
			}
			continue // due, or woken: read the schedule again
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := e.Round(ctx)
		e.drainWake() // the round's own wake-up: the schedule is read again below
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, hal.ErrPowerLoss) || errors.Is(err, hal.ErrClosed) {
				if e.opts.OnRound != nil {
					e.opts.OnRound(rep, err)
				}
				return err
			}
			e.mu.Lock()
			if now := e.now(); !e.nextSync.After(now) {
				e.nextSync = now.Add(e.scheduleInterval())
			}
			e.mu.Unlock()
		}
		if e.opts.OnRound != nil {
			e.opts.OnRound(rep, err)
		}
		if e.opts.IdleErase {
			e.idleEraseUntilDue(ctx)
		}
	}
}

// scheduled returns when the next round is due, re-anchoring the schedule
// if the clock was stepped. A BMC often boots at 1970 and is stepped by
// NTP later, in either direction; rounds are scheduled one interval after
// the last one by the same clock, so:
//
//   - a step back leaves the next sync more than one interval after now
//     (years, after a step from 2026 to 1970): the time since the last
//     round is unknown, so the schedule is re-anchored to now and a round
//     runs at once, then one interval after it, never years away;
//   - a step forward leaves the next sync in the past: one round runs at
//     once (the next is one interval after it, not at the missed times),
//     never a burst.
func (e *Engine) scheduled() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	if e.nextSync.Sub(now) > e.scheduleInterval() {
		e.nextSync = now
	}
	return e.nextSync
}

// sleep waits d on the engine's clock, or less if kick wakes it; the error
// is ctx's.
func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-e.wake:
			cancel()
		case <-done:
		}
	}()
	err := e.clock.Sleep(wctx, d)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && wctx.Err() == nil {
		return err // the clock failed
	}
	return nil
}
