package sim

import (
	"context"
	"sync/atomic"
	"time"
)

// Clock is a virtual clock: it implements hal.Clock, but Sleep advances it
// instead of waiting, and flash operations advance it by their datasheet
// time. A primary and a backup chip share one Clock, so a sync's duration
// is the sum of both chips' work. Safe for concurrent use.
type Clock struct {
	start time.Time
	ns    atomic.Int64
}

// NewClock returns a clock that reads start until something advances it.
func NewClock(start time.Time) *Clock { return &Clock{start: start} }

// Now returns the virtual time.
func (c *Clock) Now() time.Time { return c.start.Add(time.Duration(c.ns.Load())) }

// Sleep advances the clock by d (never waits). If ctx is already done it
// returns ctx.Err() and does not advance.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// Advance moves the clock forward by d; a negative d does nothing.
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.ns.Add(int64(d))
	}
}

// Elapsed returns how far the clock has advanced since NewClock.
func (c *Clock) Elapsed() time.Duration { return time.Duration(c.ns.Load()) }
