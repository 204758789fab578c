package daemon

import (
	"context"
	"sync"
	"sync/atomic"
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
// moves forward by that charged time at once, so a round lasts its flash
// time though the daemon waits for none of it, and a delay injected into
// the primary's answer is measured against the threshold as the time it
// stands for. Otherwise it follows the monotonic clock, in one of two ways:
//
//   - while the information is held (a round runs, or the simulated CMC
//     writes: the primary lock, see clockedLock), real time adds to the
//     flash time, so a wait-response (real sleeps between probes) is
//     measured in full;
//   - while it is not (between rounds), the clock stands until the real
//     time catches up with it: it falls back onto the wall clock, ahead of
//     it by at most the flash time of the last burst of work.
//
// Sleep waits in real time. With pace the chips' time is waited out in
// real time instead (see pacedFlash, and Advance), and the clock is the
// wall clock.
//
// Now's value is the wall clock's reading plus the lead, and carries the
// monotonic reading of the position: durations between two of its values
// are the position's (never negative, and unmoved by wall-clock steps),
// while its wall reading follows the system's clock.
//
// flashClock measures durations and waits only; it dates nothing. Its
// reading runs ahead of the wall clock by the flash time of the last
// burst of work (and of the injected delays): with every primary read
// 3 s late (the README's failover demo), a format, a failover and a
// scrub of two 8 MiB chips put it minutes ahead (TestDatesFollowTheWallClock
// checks that it is). So the daemon dates
// by the wall clock (time.Now): the engine's dates through
// engine.Options.Wall (a generation's sync time and next sync, a round's
// start, its events, the last scrub, and the schedule Run compares with
// now: the next round is due one interval after the last by the wall
// clock, whatever the chips' virtual time), and the daemon's own history
// events (wait-response, failover-hook, log lines). With pace the two
// clocks agree.
type flashClock struct {
	virtual *sim.Clock // charged by the simulated chips; nil: none
	pace    bool
	// wall is the time source (time.Now, whose readings carry the
	// monotonic clock; tests give another) and origin its first reading.
	wall   func() time.Time
	origin time.Time

	mu       sync.Mutex
	held     int           // holders of the information (hold, release)
	position time.Duration // on the monotonic timeline, since origin
	elapsed  time.Duration // the monotonic time at the last update
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.update(wall.Sub(c.origin))
	return wall.Add(c.position - c.elapsed)
}

// update moves the position on to the monotonic time elapsed since the
// origin; c.mu is held.
func (c *flashClock) update(elapsed time.Duration) {
	elapsed = max(elapsed, c.elapsed)
	real := elapsed - c.elapsed
	c.elapsed = elapsed
	var charge time.Duration
	if c.virtual != nil && !c.pace {
		total := c.virtual.Elapsed()
		charge = total - c.charged
		c.charged = total
	}
	if c.held > 0 {
		c.position += real + charge
	} else {
		c.position = max(c.position+charge, elapsed)
	}
}

// hold and release bracket the time the information is held (a round, a
// step of the simulated CMC): real time then adds to the flash time.
func (c *flashClock) hold() {
	wall := c.wall()
	c.mu.Lock()
	c.update(wall.Sub(c.origin))
	c.held++
	c.mu.Unlock()
}

func (c *flashClock) release() {
	wall := c.wall()
	c.mu.Lock()
	c.update(wall.Sub(c.origin))
	c.held--
	c.mu.Unlock()
}

// clockedLock is the primary lock (Daemon.primaryMu): a mutex that tells
// the engine's clock while it is held (flashClock.hold), and keeps when it
// was taken and when a flash operation last returned (stalledFor).
type clockedLock struct {
	mu    sync.Mutex
	clock *flashClock // nil until the chips are open
	// mono is the monotonic time source (nil: monotonic); taken is its
	// reading when the lock was taken, plus 1 (0: free); returned its
	// reading when a flash operation last returned, plus 1 (0: never).
	mono     func() time.Duration
	taken    atomic.Int64
	returned atomic.Int64
}

// Lock takes the lock and holds the clock.
func (l *clockedLock) Lock() {
	l.mu.Lock()
	if l.clock != nil {
		l.clock.hold()
	}
	l.taken.Store(int64(l.now()) + 1)
}

// Unlock releases the clock and the lock.
func (l *clockedLock) Unlock() {
	l.taken.Store(0)
	if l.clock != nil {
		l.clock.release()
	}
	l.mu.Unlock()
}

// opReturned notes that a flash operation on either chip returned (with
// or without an error). Safe to call without the lock, from any goroutine.
func (l *clockedLock) opReturned() { l.returned.Store(int64(l.now()) + 1) }

// stalledFor is how long the lock's holder has gone without a flash
// operation returning: since the later of the lock being taken and the
// last operation returning (0: free). A long round whose operations keep
// returning is not stalled, however long it takes. Safe to call without
// the lock.
func (l *clockedLock) stalledFor() time.Duration {
	t := l.taken.Load()
	if t == 0 {
		return 0
	}
	since := max(t, l.returned.Load())
	return max(l.now()-time.Duration(since-1), 0)
}

func (l *clockedLock) now() time.Duration {
	if l.mono != nil {
		return l.mono()
	}
	return monotonic()
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
