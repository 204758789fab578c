package bench

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/info"
)

// env is a scenario's primary (a) and backup (b) chips, where the info
// region lives, and the engine syncing them, if it runs.
type env struct {
	clock     *sim.Clock
	a, b      *sim.Flash
	regionOff int64
	snapA     *sim.Snapshot
	snapB     *sim.Snapshot
	engine    *engineRunner
}

type engineRunner struct{}

func (e *engineRunner) round(ctx context.Context) error { return nil }

// setup (temporary, until the engine lands) formats a region at 64 KiB.
func (sc *scenario) setup(ctx context.Context) (*env, error) {
	if 64<<10+sc.size > sc.part.Size {
		return nil, fmt.Errorf("%w: %s %s %s: region does not fit the chip", errSkip, sc.part.Name, sc.timing, hal.FormatSize(sc.size))
	}
	clock := sim.NewClock(info.GeneratorEpoch)
	e := &env{clock: clock, regionOff: 64 << 10}
	var err error
	if e.a, err = sc.newChip(clock, sc.part.Size, "primary"); err != nil {
		return nil, err
	}
	if e.b, err = sc.newChip(clock, sc.part.Size, "backup"); err != nil {
		return nil, err
	}
	if err := info.FormatRegion(e.a, e.regionOff, sc.size); err != nil {
		return nil, err
	}
	r, err := info.OpenRegion(e.a, e.regionOff, sc.size)
	if err != nil {
		return nil, err
	}
	if err := info.NewGenerator(sc.seed).Populate(r); err != nil {
		return nil, err
	}
	e.snapA, e.snapB = e.a.Snapshot(), e.b.Snapshot()
	return e, nil
}

func (e *env) reset(ctx context.Context) error {
	e.a.Restore(e.snapA)
	e.b.Restore(e.snapB)
	return nil
}

// engineAvailable is false until sync/engine lands.
const engineAvailable = false
