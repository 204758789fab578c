package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// monotonic returns the time since the process's clock origin on the
// monotonic clock, which wall-clock steps (NTP, an operator's date) do
// not move. The daemon's own timers measure with it (the wear budget, the
// scrub schedule, the engine clock's position).
func monotonic() time.Duration { return time.Since(processStart) }

// processStart is the origin of monotonic.
var processStart = time.Now()

// flashClock is the engine's clock (hal.Clock): one clock for the engine
// and the simulated chips. The simulated chips charge their datasheet time
// (and the fault injector its delays) to a virtual sim.Clock; flashClock
// moves forward by that charged time at once and otherwise follows the
// wall clock: its position is the later of "the last position plus the
// time charged since" and the monotonic time elapsed. So a round lasts at
// least its flash time though the daemon waits for none of it, a delay
// injected into the primary's answer is measured against the threshold as
// the time it stands for, and between rounds the clock falls back onto the
// wall clock (it is never ahead of it by more than the flash time of the
// last burst of work). Sleep waits in real time.
//
// With pace the chips' time is waited out in real time instead (see
// pacedFlash, and Advance), and the clock is the wall clock.
//
// Now's value is the wall clock's reading plus the lead, and carries the
// monotonic reading of the position: durations between two of its values
// are the position's (never negative, and unmoved by wall-clock steps),
// while its wall reading follows the system's clock.
type flashClock struct {
	virtual *sim.Clock // charged by the simulated chips; nil: none
	pace    bool
	// wall is the time source (time.Now, whose readings carry the
	// monotonic clock; tests give another) and origin its first reading.
	wall   func() time.Time
	origin time.Time

	mu       sync.Mutex
	position time.Duration // on the monotonic timeline
	charged  time.Duration // of virtual's time, already added to position
}

var _ hal.Clock = (*flashClock)(nil)

// newFlashClock returns the clock over the simulated chips' virtual clock
// (nil without simulated chips).
func newFlashClock(virtual *sim.Clock, pace bool) *flashClock {
	return &flashClock{virtual: virtual, pace: pace, wall: time.Now, origin: time.Now()}
}

// Now returns the clock's time (see flashClock).
func (c *flashClock) Now() time.Time {
	wall := c.wall()
	return wall.Add(c.lead(wall.Sub(c.origin)))
}

// lead moves the position on, given the time elapsed since the origin,
// and returns how far it is ahead of it.
func (c *flashClock) lead(elapsed time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.virtual != nil && !c.pace {
		total := c.virtual.Elapsed()
		c.position += total - c.charged
		c.charged = total
	}
	c.position = max(c.position, elapsed)
	return c.position - elapsed
}

// Sleep waits d in real time, or until ctx is done.
func (c *flashClock) Sleep(ctx context.Context, d time.Duration) error {
	return hal.SystemClock{}.Sleep(ctx, d)
}

// Advance is a fault's delay (faults.Advancer): it charges d to the
// virtual clock, or with pace waits d.
func (c *flashClock) Advance(d time.Duration) {
	if c.pace || c.virtual == nil {
		time.Sleep(d)
		return
	}
	c.virtual.Advance(d)
}
