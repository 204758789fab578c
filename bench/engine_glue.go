package bench

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// env is a scenario's primary (a) and backup (b) chips on one virtual
// clock, where the info region lives on a, and the engine syncing them.
// reset brings both chips back to the state after the first sync.
type env struct {
	clock        *sim.Clock
	a, b         *sim.Flash
	regionOff    int64
	snapA, snapB *sim.Snapshot
	engine       *engineRunner // nil when the engine does not run here
	skipReason   string        // why the engine does not run, if it does not
	agingRounds  int           // full rewrites it took to bring the store to steady state
}

// engineRunner runs engine rounds and checks their outcome.
type engineRunner struct {
	opts engine.Options
	eng  *engine.Engine
	last engine.RoundReport
}

// round runs one engine round; anything but a commit is an error (the bench
// measures syncs, not failovers).
func (r *engineRunner) round(ctx context.Context) error {
	rep, err := r.eng.Round(ctx)
	r.last = rep
	if err != nil {
		return err
	}
	if rep.Outcome != engine.OutcomeCommitted && rep.Outcome != engine.OutcomeNothingChanged {
		return fmt.Errorf("round outcome %s (anomaly %q, error %q)", rep.Outcome, rep.Anomaly, rep.Error)
	}
	return nil
}

// engineConfig is the configuration the bench syncs with: the engine's
// defaults (no read-back verify), every type in every round (no groups),
// so that every round carries the whole change like the peers do.
func engineConfig() engine.Config {
	c := engine.DefaultConfig()
	c.Types = info.All()
	c.GroupSize = 0
	return c
}

// setup formats both chips the engine's way (image, info region, store),
// fills the primary's region like a CMC does (info.Generator.Populate) and
// runs the first, full sync; the state after it is every workload's start.
// When the engine's layout does not fit the part (a region too large for
// image + region + a store twice its size), the region is laid out alone at
// offset 0 and only the peers and the floor run.
func (sc *scenario) setup(ctx context.Context) (*env, error) {
	clock := sim.NewClock(info.GeneratorEpoch)
	e := &env{clock: clock}
	chip := engineGeometry(sc.part.Geometry(), sc.size).Size
	var err error
	if e.a, err = sc.newChip(clock, chip, "primary"); err != nil {
		return nil, err
	}
	if e.b, err = sc.newChip(clock, chip, "backup"); err != nil {
		return nil, err
	}
	var layout engine.Layout
	wantEngine := false
	for _, s := range sc.strategies {
		wantEngine = wantEngine || s == StrategyEngine
	}
	if wantEngine {
		layout, err = engine.DefaultLayout(e.a.Geometry(), sc.size)
		if err != nil {
			e.skipReason = fmt.Sprintf("engine on %s %s %s: %v", sc.part.Name, sc.timing, hal.FormatSize(sc.size), err)
		}
	}
	if wantEngine && err == nil {
		opts := engine.Options{Clock: clock, Layout: layout, Config: engineConfig()}
		if err := engine.Format(e.a, e.b, opts); err != nil {
			return nil, fmt.Errorf("engine format: %w", err)
		}
		e.regionOff = layout.InfoOff
		e.engine = &engineRunner{opts: opts}
	} else {
		if sc.size > chip {
			return nil, fmt.Errorf("%w: %s %s %s: the region is larger than the chip", errSkip, sc.part.Name, sc.timing, hal.FormatSize(sc.size))
		}
		if err := info.FormatRegion(e.a, 0, sc.size); err != nil {
			return nil, err
		}
	}
	region, err := info.OpenRegion(e.a, e.regionOff, sc.size)
	if err != nil {
		return nil, err
	}
	if err := info.NewGenerator(sc.seed).Populate(region); err != nil {
		return nil, err
	}
	if e.engine != nil {
		if e.engine.eng, err = engine.Open(ctx, e.a, e.b, e.engine.opts); err != nil {
			return nil, fmt.Errorf("engine open: %w", err)
		}
		if err := e.engine.round(ctx); err != nil {
			return nil, fmt.Errorf("engine first sync: %w", err)
		}
		if err := sc.age(ctx, e, region); err != nil {
			return nil, err
		}
	}
	e.snapA, e.snapB = e.a.Snapshot(), e.b.Snapshot()
	return e, nil
}

// maxAgingRounds bounds age: a store that is not in steady state after
// this many full rewrites is a bug worth stopping for.
const maxAgingRounds = 24

// age brings the engine's store to steady state. A freshly formatted store
// is erased: for a while every round writes its chunks into pre-erased
// blocks and pays no erase — erases it will pay later, once its allocation
// cursor comes round to blocks it wrote before. A CMC that has run for a
// day is past that point, so the bench measures it there: it rewrites the
// whole region with fresh realistic contents (a Populate with another
// seed) and syncs, until a round has to erase a block for every chunk it
// writes.
func (sc *scenario) age(ctx context.Context, e *env, region *info.Region) error {
	for i := range maxAgingRounds {
		if err := info.NewGenerator(sc.seed + uint64(i) + 1).Populate(region); err != nil {
			return fmt.Errorf("aging: %w", err)
		}
		if err := e.engine.round(ctx); err != nil {
			return fmt.Errorf("aging round %d: %w", i, err)
		}
		if r := e.engine.last; r.ChangedChunks > 0 && r.Erases >= int64(r.ChangedChunks) {
			e.agingRounds = i + 1
			return nil
		}
	}
	return fmt.Errorf("aging: the store still had pre-erased blocks after %d full rewrites", maxAgingRounds)
}

// engineGeometry is the chip the engine runs on: a smaller chip of the
// same part (same timings) when the region is small, so that the store is
// a few times the region, as on the parts' default layouts, rather than a
// hundred times: the first power of two at least four times the region,
// at most the part's size.
func engineGeometry(g hal.Geometry, region int64) hal.Geometry {
	size := int64(1) << 20
	for size < 4*region && size < g.Size {
		size <<= 1
	}
	g.Size = min(size, g.Size)
	return g
}

// reset restores both chips to the state after the first sync and opens a
// fresh engine on them.
func (e *env) reset(ctx context.Context) error {
	e.a.Restore(e.snapA)
	e.b.Restore(e.snapB)
	if e.engine == nil {
		return nil
	}
	eng, err := engine.Open(ctx, e.a, e.b, e.engine.opts)
	if err != nil {
		return fmt.Errorf("engine open: %w", err)
	}
	e.engine.eng = eng
	return nil
}

// engineAvailable says the engine strategy is wired in.
const engineAvailable = true
