package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// dayOld is how much CMC activity the standard start state has seen: long
// enough for every log ring to have filled and wrapped, so new entries
// overwrite the oldest ones, as on any CMC that has run for a day or more.
const dayOld = 48 * time.Hour

// regionStates are contents of an information region of one size and
// erase model, built once per Run and shared by every part of the same
// erase and page size (the region format depends on the geometry, not on
// the timings): fresh is just
// populated (rings 80% full: new log entries land in erased space), day is
// fresh plus dayOld of activity (rings full and wrapping), alt is another
// day-old region (other seed) used to churn the engine's store into steady
// state.
type regionStates struct {
	eraseModel      sim.EraseModel // the erase unit the region is laid out for
	geometry        string         // the erase and page size, for cache keys
	fresh, day, alt []byte
}

// buildStates makes the region states of a size-byte region on a scratch
// chip of part p under erase model em.
func buildStates(p sim.Part, em sim.EraseModel, size int64, seed uint64) (*regionStates, error) {
	chip, err := sim.New(sim.Options{Part: p, Size: size, EraseModel: em, Name: "scratch"})
	if err != nil {
		return nil, err
	}
	g := chip.Geometry()
	st := regionStates{eraseModel: em, geometry: fmt.Sprintf("erase %d page %d", g.EraseSize, g.PageSize)}
	for i, dst := range []*[]byte{&st.day, &st.alt} {
		if err := info.FormatRegion(chip, 0, size); err != nil {
			return nil, err
		}
		r, err := info.OpenRegion(chip, 0, size)
		if err != nil {
			return nil, err
		}
		g := cmcsim.New(seed + uint64(i)*0x51ed)
		if err := g.Populate(r); err != nil {
			return nil, err
		}
		if i == 0 {
			if st.fresh, err = readAll(chip, 0, size); err != nil {
				return nil, err
			}
		}
		if err := g.Step(r, dayOld); err != nil {
			return nil, err
		}
		if *dst, err = readAll(chip, 0, size); err != nil {
			return nil, err
		}
	}
	return &st, nil
}

// env is a scenario's primary (a) and backup (b) chips on one virtual
// clock, where the info region lives on a, and the engine syncing them. The
// engine runs for the whole scenario, like on a CMC: it is never restarted
// between workloads (a restart has costs of its own that a running CMC does
// not pay every round).
type env struct {
	clock       *sim.Clock
	a, b        *sim.Flash
	regionOff   int64
	states      *regionStates
	engine      *engineRunner // nil when the engine does not run here
	skipReason  string        // why the engine does not run, if it does not
	agingRounds int           // rounds it took to bring the store to steady state
	stock       *stock        // erased blocks of a and b
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

// idle runs the engine's idle-time work between two rounds, as its daemon
// does (engine.Options.IdleErase): erasing free blocks ahead of need.
func (r *engineRunner) idle(ctx context.Context) error {
	_, err := r.eng.IdleErase(ctx)
	return err
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
// gives the primary's region the contents of a CMC that has run for two
// days and syncs it, and churns the store into steady state (see age).
// When the engine's layout does not fit the part (a region too large for
// image + region + a store twice its size), the region is laid out alone
// at offset 0 and only the peers and the floors run.
func (sc *scenario) setup(ctx context.Context, st *regionStates) (*env, error) {
	clock := sim.NewClock(cmcsim.Epoch)
	e := &env{clock: clock, states: st}
	chip := engineGeometry(sc.geometry(), sc.size).Size
	// The first chip size from there on that the engine's layout fits.
	for chip < sc.part.Size {
		g := sc.geometry()
		g.Size = chip
		if _, err := engine.DefaultLayout(g, sc.size); err == nil {
			break
		}
		chip *= 2
	}
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
			e.skipReason = fmt.Sprintf("engine not run on %s (chip %s): %v", sc.name(), hal.FormatSize(chip), err)
		}
	}
	if wantEngine && err == nil {
		opts := engine.Options{Clock: clock, Layout: layout, Config: engineConfig()}
		if err := engine.Format(e.a, e.b, opts); err != nil {
			return nil, fmt.Errorf("engine format: %w", err)
		}
		e.regionOff = layout.InfoOff
		e.engine = &engineRunner{opts: opts}
	} else if sc.size > chip {
		return nil, fmt.Errorf("%w: %s: the region is larger than the chip", errSkip, sc.name())
	}
	// The primary's region as the CMC's services left it (written raw: the
	// bytes are what info.Region.Write produced on the scratch chip).
	e.a.Poke(e.regionOff, st.day)
	if e.engine != nil {
		if e.engine.eng, err = engine.Open(ctx, e.a, e.b, e.engine.opts); err != nil {
			return nil, fmt.Errorf("engine open: %w", err)
		}
		if err := e.engine.round(ctx); err != nil {
			return nil, fmt.Errorf("engine first sync: %w", err)
		}
		if err := e.age(ctx, st); err != nil {
			return nil, err
		}
	}
	e.stock = newStock(e.a, e.b)
	return e, nil
}

// maxAgingRounds bounds age: a store that is not in steady state after
// this many full rewrites is a bug worth stopping for.
const maxAgingRounds = 40

// age brings the engine's store to steady state. A freshly formatted store
// is erased: for a while every round writes its chunks into pre-erased
// blocks and pays no erase — erases it pays later, once its allocation
// cursor comes round to blocks it wrote before. A CMC that has run for a
// day is past that point, so the bench measures it there: the primary's
// region alternates between two day-old contents and the engine syncs each,
// until a round has had to erase a block for every chunk it wrote; it ends
// with the day-old state synced.
func (e *env) age(ctx context.Context, st *regionStates) error {
	steady := false
	for i := 0; i < maxAgingRounds; i++ {
		next := st.alt
		if i%2 == 1 {
			next = st.day
		}
		e.a.Poke(e.regionOff, next)
		if err := e.engine.round(ctx); err != nil {
			return fmt.Errorf("aging round %d: %w", i, err)
		}
		r := e.engine.last
		steady = steady || (r.ChangedChunks > 0 && r.Erases >= int64(r.ChangedChunks))
		if steady && i%2 == 1 {
			e.agingRounds = i + 1
			return nil
		}
	}
	return fmt.Errorf("aging: the store still had pre-erased blocks after %d full rewrites", maxAgingRounds)
}

// engineGeometry is where the search for the chip the engine runs on
// starts: a smaller chip of the same part (same timings) when the region is
// small, so that the store is a few times the region, as on the parts'
// default layouts, rather than a hundred times: the first power of two at
// least four times the region, at most the part's size. setup doubles it
// until the engine's layout fits.
func engineGeometry(g hal.Geometry, region int64) hal.Geometry {
	size := int64(1) << 20
	for size < 4*region && size < g.Size {
		size <<= 1
	}
	g.Size = min(size, g.Size)
	return g
}

// reset gives the primary's region a workload's start contents (filling:
// rings 80% full; else day-old) and, unmeasured, lets the running engine
// sync them, so the backup holds the start state when the workload begins.
func (e *env) reset(ctx context.Context, filling bool) error {
	start := e.states.day
	if filling {
		start = e.states.fresh
	}
	e.a.Poke(e.regionOff, start)
	if e.engine == nil {
		return nil
	}
	if err := e.engine.round(ctx); err != nil {
		return fmt.Errorf("engine sync of the start state: %w", err)
	}
	return nil
}

// engineAvailable says the engine strategy is wired in.
const engineAvailable = true
