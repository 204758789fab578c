package campaign

import (
	"context"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/sim"
)

// harnessClock is the engine's clock in a campaign: it moves with the
// simulated chips' virtual clock, and the harness can set it to any time
// (when it branches from a snapshot taken at that time), which a sim.Clock
// cannot do since virtual time only advances.
type harnessClock struct {
	mu   sync.Mutex
	sim  *sim.Clock
	base time.Time
	mark time.Duration
}

func newHarnessClock(c *sim.Clock) *harnessClock {
	return &harnessClock{sim: c, base: c.Now(), mark: c.Elapsed()}
}

// Now returns the time: base plus the chips' virtual time since set.
func (h *harnessClock) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.base.Add(h.sim.Elapsed() - h.mark)
}

// Sleep advances virtual time by d (the chips' clock too).
func (h *harnessClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		h.sim.Advance(d)
	}
	return nil
}

// Advance moves virtual time forward by d (faults.Advancer).
func (h *harnessClock) Advance(d time.Duration) { h.sim.Advance(d) }

// set makes Now return t.
func (h *harnessClock) set(t time.Time) {
	h.mu.Lock()
	h.base, h.mark = t, h.sim.Elapsed()
	h.mu.Unlock()
}
