package daemon

import (
	"context"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// simulateCMC is the simulated CMC: every step until ctx is done it
// applies step's worth of activity (events appended, fan and power
// readings moving; cmcsim, seeded with Options.Seed) to the active
// image's information region, never during a round (primaryMu). A failure
// is logged once, until a step succeeds again.
func (d *Daemon) simulateCMC(ctx context.Context, step time.Duration) {
	gen := cmcsim.New(d.opts.Seed)
	t := time.NewTicker(step)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := d.stepCMC(gen, step)
		if err != nil && !failing {
			d.logf("simulated CMC: %v", err)
		}
		failing = err != nil
	}
}

// stepCMC applies one step of the generator's activity to the active
// image's information region.
func (d *Daemon) stepCMC(gen *cmcsim.Generator, step time.Duration) error {
	l := d.engine.Layout()
	d.primaryMu.Lock()
	defer d.primaryMu.Unlock()
	region, err := info.OpenRegion(d.engine.Primary(), l.InfoOff, l.InfoSize)
	if err != nil {
		return err
	}
	return gen.Step(region, step)
}
